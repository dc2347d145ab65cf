package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.tests.robustness.check.Verdict;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite run against deliberately broken builds (a bug switch set on every member at start):
 * each must fail the check that guards what the switch breaks. A suite that passed these would
 * pass a store that is not etcd.
 */
class BrokenBuildIT {
  static final long SEED = Long.getLong("kvorum.robustness.seed", System.nanoTime());

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  private RobustnessRun.Report run(RobustnessRun.Scenario s) throws Exception {
    RobustnessRun.Report r = RobustnessRun.run(s, SEED, dir, List.of());
    System.out.println("robustness (broken build, " + s.failpoints() + "): " + r);
    assertThat(r.ok()).as("the checks passed a broken build: %s", r).isFalse();
    return r;
  }

  @Test
  void linearizableReadsServedLocally_leaderIsolated_linearizabilityViolated() throws Exception {
    RobustnessRun.Report r = run(new RobustnessRun.Scenario("broken-local-reads", 3, List.of(Fault.ISOLATE_LEADER),
        20_000, 2_000, "bugLocalLinearizableReads=return"));
    assertThat(r.linearizable()).as(r.toString()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void watchSkipsAnEvent_watchCheckViolated() throws Exception {
    RobustnessRun.Report r = run(new RobustnessRun.Scenario("broken-watch", 3, List.of(), 10_000, 1_000,
        "bugWatchSkipsEvent=200*off->1*return"));
    assertThat(List.of(r.watch1().verdict(), r.watch2().verdict())).as(r.toString()).contains(Verdict.VIOLATION);
    assertThat(r.linearizable()).as("only the watch is broken: %s", r).isEqualTo(Verdict.OK);
  }

  @Test
  void writesAcknowledgedBeforeFsync_powerCutOfAll_acknowledgedWritesLost() throws Exception {
    // One member: in a cluster, the members die one after another at the cut, and the last ones
    // still hold in their page cache what the first lost, so a loss needs several cuts to show.
    RobustnessRun.Report r = run(new RobustnessRun.Scenario("broken-fsync", 1, List.of(Fault.POWER_CUT_ALL),
        30_000, 3_000, "bugAckBeforeFsync=return"));
    assertThat(r.linearizable()).as(r.toString()).isEqualTo(Verdict.VIOLATION);
  }
}
