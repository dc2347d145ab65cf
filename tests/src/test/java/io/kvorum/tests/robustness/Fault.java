package io.kvorum.tests.robustness;

import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import io.kvorum.tests.robustness.faults.FailpointControl;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
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
      killAndRestart(follower(c, r), r);
    }
  },
  /** SIGKILL of the leader, restarted on its data after the others elected another. */
  KILL_LEADER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      killAndRestart(c.awaitLeader(LEADER_WAIT_MS), r);
    }
  },
  /** SIGSTOP of the leader for longer than an election timeout, then SIGCONT. */
  STOP_LEADER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      stopAndContinue(c.awaitLeader(LEADER_WAIT_MS), r);
    }
  },
  /** SIGSTOP of a follower, then SIGCONT. */
  STOP_FOLLOWER {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      stopAndContinue(follower(c, r), r);
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
  },
  /** The leader cut off from every other member (clients still reach it), then healed. */
  ISOLATE_LEADER(true, false) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      c.network().isolate(ProcessCluster.index(c.awaitLeader(LEADER_WAIT_MS)));
      heal(c, r);
    }
  },
  /** A random minority cut off from the majority, then healed. */
  SPLIT(true, false) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < c.network().size(); i++) {
        all.add(i);
      }
      Collections.shuffle(all, r);
      int minority = (all.size() - 1) / 2;
      c.network().split(new HashSet<>(all.subList(0, minority)), new HashSet<>(all.subList(minority, all.size())));
      heal(c, r);
    }
  },
  /** Two members that cannot reach each other but both reach a third (the leader, or not), then healed. */
  BRIDGE(true, false) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < c.network().size(); i++) {
        all.add(i);
      }
      Collections.shuffle(all, r);
      c.network().bridge(all.get(0), all.get(1), all.get(2));
      heal(c, r);
    }
  },
  /** The leader's packets to one follower lost (the follower's to the leader pass), then healed. */
  ONE_WAY_FROM_LEADER(true, false) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      MemberProcess leader = c.awaitLeader(LEADER_WAIT_MS);
      c.network().dropOneWay(ProcessCluster.index(leader), ProcessCluster.index(follower(c, r)));
      heal(c, r);
    }
  },
  /** One member's peer messages delayed, a part of them lost and reordered, then back to normal. */
  SLOW_LOSSY_PEER(false, true) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      List<MemberProcess> ms = c.members();
      MemberProcess m = ms.get(r.nextInt(ms.size()));
      FailpointControl f = c.failpoints(m);
      f.set("peerSendDelay", "sleep(" + (5 + r.nextInt(50)) + ")");
      f.set("peerSendDrop", (5 + r.nextInt(20)) + "%return");
      f.set("peerSendReorder", (10 + r.nextInt(40)) + "%return");
      pause(r);
      f.clear("peerSendDelay");
      f.clear("peerSendDrop");
      f.clear("peerSendReorder");
    }
  },
  /**
   * One member crashes at a crash point on the write path (the leader half the time): the WAL
   * before or after its save, before an fsync, or in the middle of an apply batch, after a random
   * number of hits; then it is restarted on its data.
   */
  CRASH_POINT(false, true) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      MemberProcess m = r.nextBoolean() ? c.awaitLeader(LEADER_WAIT_MS) : follower(c, r);
      String point = CRASH_POINTS.get(r.nextInt(CRASH_POINTS.size()));
      try {
        c.failpoints(m).set(point, r.nextInt(40) + "*off->panic");
      } catch (IOException e) {
        // It went down some other way: restarted below like a crashed one.
      }
      m.process().waitFor(CRASH_WAIT_MS, TimeUnit.MILLISECONDS);
      if (m.alive()) {
        try {
          c.failpoints(m).clear(point);
        } catch (IOException e) {
          // It crashed just now.
        }
      }
      if (!m.alive()) {
        pause(r);
        m.start();
      }
    }
  },
  /** One member's WAL fsyncs made slow (a slow disk) for a while. */
  SLOW_FSYNC(false, true) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException {
      List<MemberProcess> ms = c.members();
      MemberProcess m = ms.get(r.nextInt(ms.size()));
      c.failpoints(m).set("walFsync", "sleep(" + (20 + r.nextInt(180)) + ")");
      pause(r);
      c.failpoints(m).clear("walFsync");
    }
  },
  /**
   * A power cut of every member at once: each loses what its WAL had not fsynced and what its
   * backend had not synced ({@code raftPowerCut}), then all start again on what is left.
   */
  POWER_CUT_ALL(false, true) {
    @Override
    void inject(ProcessCluster c, Random r) throws IOException, InterruptedException {
      for (MemberProcess m : c.members()) {
        try {
          c.failpoints(m).set("raftPowerCut", "panic");
        } catch (IOException e) {
          // Already down.
        }
      }
      for (MemberProcess m : c.members()) {
        if (!m.process().waitFor(CRASH_WAIT_MS, TimeUnit.MILLISECONDS)) {
          // Nothing reached its save point in time (an idle member): a kill keeps its page cache,
          // which a power cut would not, but loses nothing it acknowledged.
          m.kill();
        }
      }
      MemberProcess.startTogether(c.members());
    }
  };

  /** The crash points {@link #CRASH_POINT} chooses from. */
  static final List<String> CRASH_POINTS = List.of("raftBeforeSave", "raftAfterSave", "walFsync", "applyMidBatch");
  /** How long a member set to crash may take to reach its point before the point is cleared. */
  static final long CRASH_WAIT_MS = 10_000;
  /**
   * How {@link #POWER_CUT_ALL} arms {@code raftPowerCut} at start: set, so the backend is opened
   * for the emulation, but off until the fault sets {@code panic}.
   */
  static final String POWER_CUT_ARMED = "raftPowerCut=1000000000*off->panic";

  /** Whether the fault needs the members in network namespaces. */
  final boolean namespaces;
  /** Whether the fault needs the members' failpoint endpoints. */
  final boolean failpoints;

  Fault() {
    this(false, false);
  }

  Fault(boolean namespaces, boolean failpoints) {
    this.namespaces = namespaces;
    this.failpoints = failpoints;
  }

  /** Where a scenario of {@code faults} runs its members, with {@code atStart} as their failpoints. */
  static ProcessCluster.Placement placement(List<Fault> faults, String atStart) {
    String start = atStart;
    if (faults.contains(POWER_CUT_ALL)) {
      start = start.isEmpty() ? POWER_CUT_ARMED : start + ";" + POWER_CUT_ARMED;
    }
    return new ProcessCluster.Placement(faults.stream().anyMatch(f -> f.namespaces),
        faults.stream().anyMatch(f -> f.failpoints), start);
  }

  static void heal(ProcessCluster c, Random r) throws IOException {
    pause(r);
    c.network().heal();
  }

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

  static void killAndRestart(MemberProcess m, Random r) throws IOException, InterruptedException {
    m.kill();
    pause(r);
    m.start();
  }

  static void stopAndContinue(MemberProcess m, Random r) throws IOException, InterruptedException {
    m.signal("STOP");
    try {
      pause(r);
    } finally {
      m.signal("CONT");
    }
  }

  static void pause(Random r) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500L * (1 + r.nextInt(PAUSE_ELECTIONS_MAX))));
  }
}
