package io.kvorum.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Shows that the checks bite: with storage that forgets a member's vote across a restart (a
 * {@code HardState} written back without its vote), a member can vote twice in one term and two
 * candidates can both win it. The simulation must report that within a bounded number of seeds.
 * Likewise for a member that sends before it persists.
 *
 * <p>The configuration makes the window likely: three voters, no pre-vote or check-quorum (so a
 * restarted member grants votes at once), frequent crashes with quick restarts, campaigns, and a
 * network that duplicates and holds back messages so a vote request can outlive its target's
 * crash.
 */
class BrokenStorageSimulationTest {
  private static final int SEEDS_MAX = 1000;
  private static final int STEPS = 1000;

  private static SimConfig forgetfulCluster(long seed) {
    return SimConfig.random(seed)
        .voters(3)
        .learners(0)
        .electionSafety(false, false)
        .crashRate(0.1, 1)
        .downStepsMax(2)
        .campaignRate(0.1)
        .weather(0.05, 0.2, 0.2, 20)
        .forgetVoteOnRestart(true);
  }

  @Test
  void simulation_forgottenVoteIsReportedAsTwoLeadersInOneTerm() {
    AssertionError found = firstFailure(false);

    assertThat(found).as("no seed of %d found the forgotten vote", SEEDS_MAX).isNotNull();
    assertThat(found.getMessage()).startsWith("seed=").contains(Property.TWO_LEADERS.text());
  }

  @Test
  void simulation_forgottenVoteIsReportedAsSecondVoteWhenVotesAreChecked() {
    AssertionError found = firstFailure(true);

    assertThat(found).as("no seed of %d found the forgotten vote", SEEDS_MAX).isNotNull();
    assertThat(found.getMessage()).startsWith("seed=").contains(Property.DOUBLE_VOTE.text());
  }

  @Test
  void simulation_failureReplaysExactlyFromItsSeed() {
    AssertionError found = firstFailure(false);
    long seed = Long.parseLong(found.getMessage().substring(5, found.getMessage().indexOf(' ')));

    AssertionError again = null;
    try {
      Simulation.run(seed, STEPS, forgetfulCluster(seed).checkVotes(false));
    } catch (AssertionError e) {
      again = e;
    }

    assertThat(again).isNotNull();
    assertThat(again.getMessage()).isEqualTo(found.getMessage());
  }

  /**
   * A member that sends a Ready's messages before persisting it and then crashes loses entries its
   * leader already counted as replicated: a committed entry can vanish and be replaced. Raft's own
   * invariants usually notice first (a heartbeat's commit index past the log); the checker must
   * catch it too, in some seed, as a lost or replaced committed entry.
   */
  @Test
  void simulation_sendingBeforePersistingIsReportedAsALostCommittedEntry() {
    AssertionError found = null;
    for (long seed = 1; seed <= SEEDS_MAX && found == null; seed++) {
      try {
        Simulation.run(seed, STEPS, SimConfig.random(seed).voters(3).crashRate(0.2, 1).downStepsMax(5).sendBeforePersist(true));
      } catch (AssertionError e) {
        String m = e.getMessage();
        if (m.contains(Property.COMMITTED_ENTRY_CHANGED.text()) || m.contains(Property.LEADER_COMPLETENESS.text())
            || m.contains(Property.STATE_MACHINE_SAFETY.text()) || m.contains(Property.LOG_MATCHING.text())) {
          found = e;
        }
      }
    }

    assertThat(found).as("no seed of %d caught the lost entries", SEEDS_MAX).isNotNull();
    assertThat(found.getMessage()).startsWith("seed=");
  }

  private static AssertionError firstFailure(boolean checkVotes) {
    for (long seed = 1; seed <= SEEDS_MAX; seed++) {
      try {
        Simulation.run(seed, STEPS, forgetfulCluster(seed).checkVotes(checkVotes));
      } catch (AssertionError e) {
        return e;
      }
    }
    return null;
  }
}
