package io.kvorum.raft.sim;

import io.kvorum.raft.ReadOnlyOption;
import java.util.SplittableRandom;

/**
 * Everything that shapes one simulated run: the cluster, each member's raft {@link
 * io.kvorum.raft.Config}, the network's weather and the random workload. {@link #random(long)}
 * derives a varied configuration from a seed, so a seed alone replays a run; {@link #manual(int)}
 * is a quiet, loss-free cluster for hand-written scenarios.
 *
 * <p>Rates are per simulation step probabilities. Times are in steps or ticks as named.
 */
public final class SimConfig {
  // Cluster shape.
  int voters = 3;
  int learners = 0;
  /** How many members may be added over a run on top of the initial ones (ids are never reused). */
  int addedNodesMax = 6;
  int votersMin = 3;
  int votersMax = 6;
  int learnersMax = 2;

  // Raft configuration of every member.
  int electionTicks = 10;
  int heartbeatTicks = 1;
  boolean checkQuorum = true;
  boolean preVote = true;
  ReadOnlyOption readOnlyOption = ReadOnlyOption.SAFE;
  long maxSizePerMsgBytes = 1024 * 1024;
  int maxInflightMsgs = 256;
  long maxCommittedSizePerReadyBytes = 64L * 1024 * 1024;
  long maxUncommittedEntriesSizeBytes = 0;

  // Time and network.
  int stepsPerTick = 1;
  double dropRate = 0;
  double duplicateRate = 0;
  int delayMinSteps = 1;
  int delayMaxSteps = 1;
  double longDelayRate = 0;
  int longDelayMaxSteps = 0;

  // Random workload and faults (only the random driver uses these).
  double proposeRate = 0;
  double readRate = 0;
  double confChangeRate = 0;
  double transferRate = 0;
  double campaignRate = 0;
  double partitionRate = 0;
  double crashRate = 0;
  double weatherChangeRate = 0;
  int crashedMax = 1;
  /** A crashed member restarts after a random 1..this many steps. */
  int downStepsMax = 250;
  int payloadPaddingMaxBytes = 0;

  /** How long the healed cluster has at the end of a random run to elect a voter and apply a proposal everywhere. */
  int livenessElectionTimeouts = Integer.getInteger("sim.livenessElectionTimeouts", 50);

  // The application.
  /** Make an app snapshot once this many entries were applied since the last one; 0 never. */
  int snapshotEveryEntries = 0;
  /** How often raft's request for the snapshot to send finds it temporarily unavailable. */
  double snapshotUnavailableRate = 0;
  /** Entries kept before the snapshot index when compacting (a random amount up to this). */
  int compactKeepEntriesMax = 5;
  /**
   * Stop a removed member for good once every voter of the configuration without it applied the
   * removal, as an operator would (etcd's server stops a member that learns it was removed). Off
   * lets a scenario watch raft's own handling of a removed member.
   */
  boolean decommissionRemoved = true;

  // Deliberate breakage and checker switches.
  /** Broken storage: a restarted member forgets whom it voted for in its current term. */
  boolean forgetVoteOnRestart = false;
  /**
   * Broken persistence: a member sends a Ready's messages before persisting it, so a crash in
   * between loses votes and entries others already count on.
   */
  boolean sendBeforePersist = false;
  /** Check that a member never changes its vote within a term. */
  boolean checkVotes = true;
  /**
   * Check lease-based ReadIndex answers as strictly as safe ones. etcd's lease read is only as good
   * as the assumption that a deposed leader notices within the followers' lease; see the
   * SimulationTest notes.
   */
  boolean checkLeaseReads = true;

  public static SimConfig manual(int voters) {
    SimConfig c = new SimConfig();
    c.voters = voters;
    return c;
  }

  /** A configuration drawn from {@code seed}: the same seed always gives the same one. */
  public static SimConfig random(long seed) {
    SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
    SimConfig c = new SimConfig();
    c.voters = r.nextInt(2) == 0 ? 3 : 5;
    c.learners = r.nextInt(3) == 0 ? 1 : 0;
    int safety = r.nextInt(10);
    // Mostly both on as etcd's server runs; sometimes each alone or neither.
    c.checkQuorum = safety < 7 || safety == 8;
    c.preVote = safety < 8;
    c.readOnlyOption = c.checkQuorum && r.nextInt(5) == 0 ? ReadOnlyOption.LEASE_BASED : ReadOnlyOption.SAFE;
    if (r.nextInt(4) == 0) {
      c.electionTicks = 6;
      c.heartbeatTicks = 2;
    }
    if (r.nextInt(3) == 0) {
      c.maxSizePerMsgBytes = 64 + r.nextInt(256);
    }
    if (r.nextInt(3) == 0) {
      c.maxInflightMsgs = 1 + r.nextInt(4);
    }
    if (r.nextInt(4) == 0) {
      c.maxCommittedSizePerReadyBytes = 100 + r.nextInt(400);
    }
    if (r.nextInt(5) == 0) {
      c.maxUncommittedEntriesSizeBytes = 500 + r.nextInt(2000);
    }
    c.stepsPerTick = 2 + r.nextInt(3);
    c.dropRate = pick(r, 0, 0.01, 0.05, 0.1);
    c.duplicateRate = pick(r, 0, 0, 0.01, 0.05);
    c.delayMinSteps = 1;
    c.delayMaxSteps = 1 + r.nextInt(3);
    c.longDelayRate = pick(r, 0, 0.01, 0.03);
    c.longDelayMaxSteps = 10 + r.nextInt(40);
    c.proposeRate = pick(r, 0.1, 0.3, 0.5);
    c.readRate = pick(r, 0.02, 0.05, 0.1);
    c.confChangeRate = pick(r, 0, 0.005, 0.01, 0.02);
    c.transferRate = pick(r, 0, 0.002, 0.005);
    c.campaignRate = pick(r, 0, 0.001, 0.003);
    c.partitionRate = pick(r, 0, 0.002, 0.005, 0.01);
    c.crashRate = pick(r, 0, 0.002, 0.005, 0.01);
    c.weatherChangeRate = pick(r, 0, 0.005);
    c.crashedMax = c.voters == 5 ? 2 : 1;
    c.payloadPaddingMaxBytes = r.nextInt(3) == 0 ? 64 : 0;
    c.snapshotEveryEntries = pick(r, 5, 20, 50, 200);
    c.compactKeepEntriesMax = r.nextInt(10);
    c.snapshotUnavailableRate = pick(r, 0, 0, 0.3);
    return c;
  }

  private static double pick(SplittableRandom r, double... options) {
    return options[r.nextInt(options.length)];
  }

  private static int pick(SplittableRandom r, int... options) {
    return options[r.nextInt(options.length)];
  }

  public SimConfig voters(int v) {
    voters = v;
    return this;
  }

  public SimConfig learners(int v) {
    learners = v;
    return this;
  }

  public SimConfig electionSafety(boolean checkQuorum, boolean preVote) {
    this.checkQuorum = checkQuorum;
    this.preVote = preVote;
    if (!checkQuorum) {
      // Raft refuses lease-based reads without check-quorum.
      readOnlyOption = ReadOnlyOption.SAFE;
    }
    return this;
  }

  public SimConfig readOnlyOption(ReadOnlyOption v) {
    readOnlyOption = v;
    return this;
  }

  public SimConfig ticks(int election, int heartbeat) {
    electionTicks = election;
    heartbeatTicks = heartbeat;
    return this;
  }

  public SimConfig stepsPerTick(int v) {
    stepsPerTick = v;
    return this;
  }

  public SimConfig crashRate(double rate, int crashedMax) {
    crashRate = rate;
    this.crashedMax = crashedMax;
    return this;
  }

  public SimConfig downStepsMax(int v) {
    downStepsMax = v;
    return this;
  }

  /** Network weather: loss, duplication and the share of messages held back up to {@code longDelayMaxSteps}. */
  public SimConfig weather(double drop, double duplicate, double longDelay, int longDelayMaxSteps) {
    dropRate = drop;
    duplicateRate = duplicate;
    longDelayRate = longDelay;
    this.longDelayMaxSteps = longDelayMaxSteps;
    return this;
  }

  public SimConfig campaignRate(double v) {
    campaignRate = v;
    return this;
  }

  public SimConfig confChangeRate(double v) {
    confChangeRate = v;
    return this;
  }

  public SimConfig partitionRate(double v) {
    partitionRate = v;
    return this;
  }

  public SimConfig snapshotEveryEntries(int v) {
    snapshotEveryEntries = v;
    return this;
  }

  public SimConfig decommissionRemoved(boolean v) {
    decommissionRemoved = v;
    return this;
  }

  public SimConfig forgetVoteOnRestart(boolean v) {
    forgetVoteOnRestart = v;
    return this;
  }

  public SimConfig sendBeforePersist(boolean v) {
    sendBeforePersist = v;
    return this;
  }

  public SimConfig checkVotes(boolean v) {
    checkVotes = v;
    return this;
  }

  public SimConfig checkLeaseReads(boolean v) {
    checkLeaseReads = v;
    return this;
  }

  /** One line naming the settings that matter when reading a failure. */
  String summary() {
    return "voters=" + voters + " learners=" + learners
        + " checkQuorum=" + checkQuorum + " preVote=" + preVote + " readOnly=" + readOnlyOption
        + " ticks=" + electionTicks + "/" + heartbeatTicks + " stepsPerTick=" + stepsPerTick
        + " maxMsg=" + maxSizePerMsgBytes + " inflight=" + maxInflightMsgs
        + " maxReady=" + maxCommittedSizePerReadyBytes + " maxUncommitted=" + maxUncommittedEntriesSizeBytes
        + " drop=" + dropRate + " dup=" + duplicateRate + " delay=" + delayMinSteps + ".." + delayMaxSteps
        + " long=" + longDelayRate + "/" + longDelayMaxSteps
        + " rates[prop=" + proposeRate + " read=" + readRate + " conf=" + confChangeRate
        + " transfer=" + transferRate + " campaign=" + campaignRate + " part=" + partitionRate
        + " crash=" + crashRate + "] snapEvery=" + snapshotEveryEntries + " snapUnavailable=" + snapshotUnavailableRate
        + (forgetVoteOnRestart ? " BROKEN:forgetVote" : "") + (sendBeforePersist ? " BROKEN:sendBeforePersist" : "");
  }
}
