package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The robustness suite's short profile, run by {@code mvn verify} and so by CI: each scenario is
 * a process cluster under the recorded workload and one family of faults, then every check.
 * {@code -Dkvorum.robustness.seed=N} repeats a run's choices.
 */
class RobustnessIT {
  static final long SEED = Long.getLong("kvorum.robustness.seed", System.nanoTime());
  /** Load time of one short scenario. */
  static final long LOAD_MS = Long.getLong("kvorum.robustness.loadMs", 20_000);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  private void run(RobustnessRun.Scenario s) throws Exception {
    RobustnessRun.Report r = RobustnessRun.run(s, SEED, dir, List.of());
    System.out.println("robustness: " + r);
    assertThat(r.ok()).as(r.toString()).isTrue();
  }

  @Test
  void threeMembers_killAndStop_historyChecksPass() throws Exception {
    run(new RobustnessRun.Scenario("kill-stop-3", 3,
        List.of(Fault.KILL_LEADER, Fault.KILL_FOLLOWER, Fault.STOP_LEADER, Fault.STOP_FOLLOWER), LOAD_MS, 3_000));
  }

  @Test
  void threeMembers_restartAllAndMoveLeader_historyChecksPass() throws Exception {
    run(new RobustnessRun.Scenario("restart-move-3", 3, List.of(Fault.RESTART_ALL, Fault.MOVE_LEADER), LOAD_MS, 4_000));
  }

  @Test
  void threeMembers_partitionsAndLossyPeers_historyChecksPass() throws Exception {
    run(new RobustnessRun.Scenario("partitions-3", 3, List.of(Fault.ISOLATE_LEADER, Fault.SPLIT, Fault.BRIDGE,
        Fault.ONE_WAY_FROM_LEADER, Fault.SLOW_LOSSY_PEER), LOAD_MS, 2_000));
  }

  @Test
  void threeMembers_crashPointsSlowDisksAndPowerCuts_historyChecksPass() throws Exception {
    run(new RobustnessRun.Scenario("crash-3", 3, List.of(Fault.CRASH_POINT, Fault.SLOW_FSYNC, Fault.POWER_CUT_ALL),
        LOAD_MS, 2_000));
  }

  @Test
  void fiveMembers_replaceMembers_historyChecksPass() throws Exception {
    run(new RobustnessRun.Scenario("replace-5", 5, List.of(Fault.REPLACE_MEMBER, Fault.KILL_LEADER), LOAD_MS, 2_000));
  }
}
