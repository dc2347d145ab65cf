package io.kvorum.raft.sim;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeTransition;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.ConfState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One random run: a seeded workload (proposals, reads, membership changes, leader transfers,
 * campaigns) and seeded faults (partitions, crashes at any point of a Ready, changing loss) on a
 * {@link SimCluster} for a number of steps, then a liveness phase: everything healed and restarted,
 * a voter must lead within {@code livenessElectionTimeouts} (50; four times that without pre-vote)
 * election timeouts and a new proposal must reach every member of its configuration.
 *
 * <p>All choices come from one {@link SplittableRandom} seeded with the run's seed (the cluster
 * splits its own streams from the same seed), so {@link #run(long, int)} replays a run exactly.
 */
public final class Simulation {
  /** Steps a partition lasts at most. */
  private static final int PARTITION_STEPS_MAX = 300;

  /** What a run did, to show that the runs exercise something. */
  public record Stats(long seed, long steps, long committed, long leaders, long crashes, long confChanges,
      long snapshotsInstalled, long readsAnswered, long leaseReadsBehind) {}

  private final SimConfig cfg;
  private final SimCluster c;
  private final SplittableRandom r;
  private long partitionHealAt = -1;
  private final Set<Long> retired = new HashSet<>();

  private Simulation(long seed, SimConfig cfg) {
    this.cfg = cfg;
    this.c = new SimCluster(cfg, seed);
    this.r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 1);
  }

  /** Runs {@code seed} with the configuration it derives; throws the first failure. */
  public static Stats run(long seed, int steps) {
    return run(seed, steps, SimConfig.random(seed));
  }

  public static Stats run(long seed, int steps, SimConfig cfg) {
    Simulation s = new Simulation(seed, cfg);
    try {
      for (int i = 0; i < steps; i++) {
        s.faults();
        s.workload();
        s.c.step();
      }
      s.liveness();
    } catch (RuntimeException e) {
      // Calls into raft are already wrapped; this is the harness itself, still worth a seed.
      throw s.c.failure(Property.CORE_EXCEPTION, "unexpected " + e, e);
    }
    SafetyChecker k = s.c.checker();
    return new Stats(seed, steps, k.committedMax(), k.leadersElected(), s.c.crashes(), s.c.confChangesApplied(),
        s.c.snapshotsInstalled(), k.readsAnswered(), k.leaseReadsBehind());
  }

  private boolean chance(double p) {
    return p > 0 && r.nextDouble() < p;
  }

  // ---- Faults ----

  private void faults() {
    long now = c.stepNo();
    if (partitionHealAt >= 0 && now >= partitionHealAt) {
      c.network().heal();
      partitionHealAt = -1;
      c.events.add(now, EventLog.Kind.HEAL, 0, null);
    } else if (partitionHealAt < 0 && chance(cfg.partitionRate)) {
      partition();
      partitionHealAt = now + 10 + r.nextInt(PARTITION_STEPS_MAX);
    }
    int down = 0;
    for (SimNode n : c.nodes()) {
      if (!n.isUp() && !n.decommissioned) {
        if (n.restartAtStep >= 0 && now >= n.restartAtStep) {
          c.restart(n.id, r.nextBoolean());
        } else {
          down++;
        }
      }
    }
    if (down < cfg.crashedMax && chance(cfg.crashRate)) {
      SimNode victim = c.leaderNode() != null && r.nextInt(3) == 0 ? c.leaderNode() : randomUp();
      if (victim != null) {
        SimNode.CrashPoint[] points = SimNode.CrashPoint.values();
        SimNode.CrashPoint at = r.nextBoolean() ? SimNode.CrashPoint.NONE : points[r.nextInt(points.length)];
        c.crash(victim.id, at);
        victim.restartAtStep = now + 1 + r.nextInt(cfg.downStepsMax);
      }
    }
    if (chance(cfg.weatherChangeRate)) {
      SimNetwork net = c.network();
      net.dropRate = new double[] {0, 0.01, 0.05, 0.2}[r.nextInt(4)];
      net.duplicateRate = new double[] {0, 0.01, 0.05}[r.nextInt(3)];
      net.delayMaxSteps = 1 + r.nextInt(4);
      c.events.add(now, EventLog.Kind.WEATHER, 0, "drop=" + net.dropRate + " dup=" + net.duplicateRate
          + " delayMax=" + net.delayMaxSteps);
    }
  }

  private void partition() {
    List<Long> ids = new ArrayList<>();
    for (SimNode n : c.nodes()) {
      if (!n.decommissioned) {
        ids.add(n.id);
      }
    }
    if (ids.size() < 2) {
      return;
    }
    SimNetwork net = c.network();
    String what;
    switch (r.nextInt(4)) {
      case 0 -> {
        long victim = c.leader() != 0 ? c.leader() : ids.get(r.nextInt(ids.size()));
        net.isolate(victim);
        what = "isolate leader " + victim;
      }
      case 1 -> {
        // Split into two sides of random sizes.
        List<Long> shuffled = new ArrayList<>(ids);
        for (int i = shuffled.size() - 1; i > 0; i--) {
          int j = r.nextInt(i + 1);
          Long t = shuffled.get(i);
          shuffled.set(i, shuffled.get(j));
          shuffled.set(j, t);
        }
        int k = 1 + r.nextInt(shuffled.size() - 1);
        long[] a = shuffled.subList(0, k).stream().mapToLong(Long::longValue).toArray();
        long[] b = shuffled.subList(k, shuffled.size()).stream().mapToLong(Long::longValue).toArray();
        net.partition(a, b);
        what = "split " + java.util.Arrays.toString(a) + " | " + java.util.Arrays.toString(b);
      }
      case 2 -> {
        int links = 1 + r.nextInt(ids.size());
        StringBuilder sb = new StringBuilder("one-way");
        for (int i = 0; i < links; i++) {
          long from = ids.get(r.nextInt(ids.size()));
          long to = ids.get(r.nextInt(ids.size()));
          if (from != to) {
            net.cut(from, to);
            sb.append(' ').append(from).append("-x->").append(to);
          }
        }
        what = sb.toString();
      }
      default -> {
        long victim = ids.get(r.nextInt(ids.size()));
        net.isolate(victim);
        what = "isolate " + victim;
      }
    }
    c.events.add(c.stepNo(), EventLog.Kind.PARTITION, 0, what);
  }

  private SimNode randomUp() {
    List<SimNode> up = new ArrayList<>();
    for (SimNode n : c.nodes()) {
      if (n.isUp()) {
        up.add(n);
      }
    }
    return up.isEmpty() ? null : up.get(r.nextInt(up.size()));
  }

  /** Mostly the leader, as clients find it; sometimes any member (which forwards or drops). */
  private SimNode target() {
    SimNode l = c.leaderNode();
    return l != null && r.nextInt(5) != 0 ? l : randomUp();
  }

  // ---- Workload ----

  private void workload() {
    if (chance(cfg.proposeRate)) {
      SimNode t = target();
      if (t != null) {
        int pad = cfg.payloadPaddingMaxBytes > 0 ? r.nextInt(cfg.payloadPaddingMaxBytes + 1) : 0;
        c.propose(t.id, c.nextPayload(), pad);
      }
    }
    if (chance(cfg.readRate)) {
      SimNode t = target();
      if (t != null) {
        c.readIndex(t.id);
      }
    }
    if (chance(cfg.confChangeRate)) {
      membershipChange();
    }
    if (chance(cfg.transferRate)) {
      SimNode l = c.leaderNode();
      if (l != null) {
        List<Long> voters = l.raw().status().config().voters();
        long to = r.nextInt(6) == 0 ? 1 + r.nextInt(c.nodes().size()) : voters.get(r.nextInt(voters.size()));
        SimNode via = r.nextInt(4) == 0 ? randomUp() : l;
        if (via != null) {
          c.transferLeader(via.id, to);
        }
      }
    }
    if (chance(cfg.campaignRate)) {
      SimNode t = randomUp();
      if (t != null) {
        c.campaign(t.id);
      }
    }
  }

  private void membershipChange() {
    SimNode l = c.leaderNode();
    SimNode via = l != null && r.nextInt(5) != 0 ? l : randomUp();
    if (via == null) {
      return;
    }
    ConfState cs = (l != null ? l : via).raw().status().config();
    if (cs.isJoint()) {
      if (!cs.autoLeave()) {
        c.proposeConfChange(via.id, ConfChange.leaveJoint());
      }
      return;
    }
    // Members whose removal was proposed are never named again: an operator does not touch a
    // member it is removing (the application would refuse to add it back anyway).
    List<Long> voters = cs.voters().stream().filter(id -> !retired.contains(id)).toList();
    List<Long> learners = cs.learners().stream().filter(id -> !retired.contains(id)).toList();
    if (voters.isEmpty()) {
      return;
    }
    boolean moreVoters = voters.size() < cfg.votersMax;
    boolean fewerVoters = voters.size() > cfg.votersMin;
    boolean moreLearners = learners.size() < cfg.learnersMax;
    long newId = 0;
    List<ConfChangeSingle> changes = new ArrayList<>();
    ConfChangeTransition transition = ConfChangeTransition.AUTO;
    switch (r.nextInt(9)) {
      case 0 -> {
        if (moreVoters && c.canAddNode()) {
          newId = c.startNewNode();
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, newId));
        }
      }
      case 1 -> {
        if (moreLearners && c.canAddNode()) {
          newId = c.startNewNode();
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, newId));
        }
      }
      case 2 -> {
        if (!learners.isEmpty() && moreVoters) {
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, pick(learners)));
        }
      }
      case 3 -> {
        if (fewerVoters) {
          changes.add(new ConfChangeSingle(ConfChangeType.REMOVE_NODE, pick(voters)));
        }
      }
      case 4 -> {
        if (!learners.isEmpty()) {
          changes.add(new ConfChangeSingle(ConfChangeType.REMOVE_NODE, pick(learners)));
        }
      }
      case 5 -> {
        if (fewerVoters && moreLearners) {
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, pick(voters)));
        }
      }
      case 6 -> {
        // Replace a voter: two changes at once always go through a joint configuration.
        if (c.canAddNode()) {
          newId = c.startNewNode();
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, newId));
          changes.add(new ConfChangeSingle(ConfChangeType.REMOVE_NODE, pick(voters)));
          transition = ConfChangeTransition.values()[r.nextInt(3)];
        }
      }
      case 7 -> {
        // One change, but explicitly through a joint configuration.
        transition = r.nextBoolean() ? ConfChangeTransition.JOINT_IMPLICIT : ConfChangeTransition.JOINT_EXPLICIT;
        if (!learners.isEmpty() && moreVoters) {
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, pick(learners)));
        } else if (fewerVoters) {
          changes.add(new ConfChangeSingle(ConfChangeType.REMOVE_NODE, pick(voters)));
        } else if (moreVoters && c.canAddNode()) {
          newId = c.startNewNode();
          changes.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, newId));
        }
      }
      default -> changes.add(new ConfChangeSingle(ConfChangeType.UPDATE_NODE, pick(voters)));
    }
    if (changes.isEmpty()) {
      return;
    }
    for (ConfChangeSingle change : changes) {
      if (change.type() == ConfChangeType.REMOVE_NODE) {
        retired.add(change.nodeId());
      }
    }
    boolean accepted = c.proposeConfChange(via.id, new ConfChange(transition, changes, null));
    if (!accepted && newId != 0) {
      // Never part of any configuration: the operator stops the member it started.
      c.decommission(c.node(newId));
    }
  }

  private long pick(List<Long> ids) {
    return ids.get(r.nextInt(ids.size()));
  }

  // ---- Liveness ----

  private void liveness() {
    SimNetwork net = c.network();
    net.heal();
    net.calm();
    net.delayMaxSteps = Math.min(net.delayMaxSteps, 2);
    partitionHealAt = -1;
    c.events.add(c.stepNo(), EventLog.Kind.HEAL, 0, "liveness phase");
    for (SimNode n : c.nodes()) {
      n.crashPoint = SimNode.CrashPoint.NONE;
      if (!n.isUp() && !n.decommissioned) {
        c.restart(n.id, r.nextBoolean());
      }
    }
    // Without pre-vote a member that cannot win (say, one with a stale configuration) keeps
    // campaigning a term ahead of the others and refusing them; randomized timeouts break the tie
    // only eventually, so those runs get a longer bound.
    int timeouts = cfg.preVote ? cfg.livenessElectionTimeouts : 4 * cfg.livenessElectionTimeouts;
    // The bound is on a lack of progress: the deadline moves out while the highest commit index
    // keeps advancing (a backlog replicated one small message at a time under a tiny window is slow
    // but live, seed 108254), up to a hard cap of ten times the bound in total.
    long window = (long) timeouts * cfg.electionTicks;
    long deadline = c.ticks() + window;
    long hardDeadline = c.ticks() + 10 * window;
    long progress = maxCommit();
    long marker = 0;
    long proposedAt = Long.MIN_VALUE / 2;
    long leftJointAt = Long.MIN_VALUE / 2;
    String waiting = "no leader yet";
    while (c.ticks() < deadline) {
      c.step();
      long now = maxCommit();
      if (now > progress) {
        progress = now;
        deadline = Math.min(hardDeadline, Math.max(deadline, c.ticks() + window));
      }
      SimNode l = c.leaderNode();
      if (l == null) {
        waiting = "no leader";
        continue;
      }
      ConfState cs = l.raw().status().config();
      if (!cs.isVoter(l.id)) {
        waiting = "leader n" + l.id + " is not a voter of " + SimNode.confString(cs);
        continue;
      }
      if (cs.isJoint() && !cs.autoLeave() && c.ticks() - leftJointAt >= cfg.electionTicks) {
        c.proposeConfChange(l.id, ConfChange.leaveJoint());
        leftJointAt = c.ticks();
      }
      if (marker == 0) {
        marker = c.nextPayload();
      }
      if (c.payloadIndex(marker) == 0 && c.ticks() - proposedAt >= 2L * cfg.electionTicks) {
        c.propose(l.id, marker, 0);
        proposedAt = c.ticks();
      }
      long at = c.payloadIndex(marker);
      if (at == 0) {
        waiting = "proposal " + marker + " not applied anywhere (leader n" + l.id + ")";
        continue;
      }
      List<Long> behind = new ArrayList<>();
      for (SimNode n : c.nodes()) {
        if (!n.decommissioned && SimCluster.isMember(cs, n.id) && (!n.isUp() || n.appApplied < at)) {
          behind.add(n.id);
        }
      }
      for (long id : cs.voters()) {
        if (c.node(id) == null) {
          behind.add(id);
        }
      }
      if (behind.isEmpty()) {
        return;
      }
      waiting = "proposal " + marker + " applied at " + at + " but not on " + behind + " (leader n" + l.id + " "
          + SimNode.confString(cs) + ")";
    }
    throw c.failure(Property.LIVENESS, "after healing, within " + timeouts
        + " election timeouts of the last progress: " + waiting, null);
  }

  private long maxCommit() {
    long m = 0;
    for (SimNode n : c.nodes()) {
      if (n.isUp()) {
        m = Math.max(m, n.raw().status().hardState().commit());
      }
    }
    return m;
  }
}
