package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The robustness suite's long profile: scenarios of every fault kind on 3 and 5 members, one after
 * another with seeds drawn from the run's, until {@code kvorum.robustness.minutes} have passed.
 * Run by hand (it is not part of CI):
 * {@code ./mvnw -B verify -pl proto,raft,server,cli,tests -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test=RobustnessLongIT -Dkvorum.robustness.profile=long -Dkvorum.robustness.minutes=30}.
 */
@EnabledIfSystemProperty(named = "kvorum.robustness.profile", matches = "long")
class RobustnessLongIT {
  static final long MINUTES = Long.getLong("kvorum.robustness.minutes", 30);
  static final long SEED = Long.getLong("kvorum.robustness.seed", System.nanoTime());
  static final long LOAD_MS = Long.getLong("kvorum.robustness.loadMs", 60_000);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void everyFaultKind_untilTheTimeIsUp_historyChecksPass() throws Exception {
    Random random = new Random(SEED);
    List<RobustnessRun.Scenario> scenarios = new ArrayList<>();
    for (int members : new int[] {3, 5}) {
      for (Fault f : Fault.values()) {
        scenarios.add(new RobustnessRun.Scenario(f.name().toLowerCase() + "-" + members, members, List.of(f), LOAD_MS, 3_000));
      }
      // Together, the faults that a cluster placed in namespaces with failpoints can take (a
      // replaced member would have neither).
      scenarios.add(new RobustnessRun.Scenario("all-" + members, members, java.util.Arrays.stream(Fault.values())
          .filter(f -> f != Fault.REPLACE_MEMBER).toList(), LOAD_MS, 2_000));
    }
    // -Dkvorum.robustness.only=REGEX keeps the scenarios whose name matches (to repeat one).
    String only = System.getProperty("kvorum.robustness.only", ".*");
    scenarios.removeIf(s -> !s.name().matches(only));
    assertThat(scenarios).as("scenarios matching %s", only).isNotEmpty();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(MINUTES);
    List<String> failed = new ArrayList<>();
    int runs = 0;
    System.out.println("robustness long profile: seed=" + SEED + ", " + MINUTES + " minutes");
    for (int i = 0; System.nanoTime() < deadline; i++) {
      RobustnessRun.Scenario s = scenarios.get(i % scenarios.size());
      Path runDir = Files.createDirectories(dir.resolve("run-" + i));
      RobustnessRun.Report r = RobustnessRun.run(s, random.nextLong(), runDir, List.of());
      runs++;
      System.out.println("robustness: " + r);
      if (!r.ok()) {
        failed.add(r.toString() + "\n  members' logs: " + runDir);
      } else {
        // Kept only when it failed: a run's data dirs hold preallocated WAL segments.
        try (java.util.stream.Stream<Path> files = Files.walk(runDir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
    System.out.println("robustness long profile: " + runs + " runs, " + failed.size() + " failed");
    assertThat(failed).isEmpty();
  }
}
