package io.kvorum.tests.robustness;

import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The faults a scenario injects while its workload runs. Each one is injected and undone in one
 * call (a killed member is restarted, a stopped one continued), so the cluster is whole again
 * when it returns, though perhaps still catching up.
 */
enum Fault {
  /** SIGKILL of a follower, restarted on its data after a while. */
  KILL_FOLLOWER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      MemberProcess m = follower(c, r);
      m.kill();
      pause(r);
      m.start();
    }
  },
  /** SIGKILL of the leader, restarted on its data after the others elected another. */
  KILL_LEADER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      MemberProcess m = c.awaitLeader(LEADER_WAIT_MS);
      m.kill();
      pause(r);
      m.start();
    }
  },
  /** SIGSTOP of the leader for longer than an election timeout, then SIGCONT. */
  STOP_LEADER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      MemberProcess m = c.awaitLeader(LEADER_WAIT_MS);
      m.signal("STOP");
      try {
        pause(r);
      } finally {
        m.signal("CONT");
      }
    }
  },
  /** SIGSTOP of a follower, then SIGCONT. */
  STOP_FOLLOWER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      MemberProcess m = follower(c, r);
      m.signal("STOP");
      try {
        pause(r);
      } finally {
        m.signal("CONT");
      }
    }
  },
  /** Every member killed at once and started again on its data. */
  RESTART_ALL {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      c.restartAll();
    }
  },
  /** MoveLeader to a random follower. */
  MOVE_LEADER {
    @Override
    void inject(ProcessCluster c, Random r) {
      c.moveLeader(follower(c, r));
    }
  },
  /** A follower removed and a fresh member added in its place as a learner, then promoted. */
  REPLACE_MEMBER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      c.replace(follower(c, r));
    }
  };

  /** How long the cluster may take to agree on a leader before a fault needs one. */
  static final long LEADER_WAIT_MS = 20_000;
  /** A fault lasts between one and this many election timeouts (500 ms in the suite). */
  static final int PAUSE_ELECTIONS_MAX = 6;

  abstract void inject(ProcessCluster c, Random r) throws IOException, InterruptedException;

  static MemberProcess follower(ProcessCluster c, Random r) {
    MemberProcess leader = c.awaitLeader(LEADER_WAIT_MS);
    List<MemberProcess> others = c.members().stream().filter(m -> m != leader).toList();
    return others.get(r.nextInt(others.size()));
  }

  static void pause(Random r) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500L * (1 + r.nextInt(PAUSE_ELECTIONS_MAX))));
  }
}
