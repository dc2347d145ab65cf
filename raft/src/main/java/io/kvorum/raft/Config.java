package io.kvorum.raft;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Parameters of one raft member, validated eagerly by {@link #validate()}. Times are in ticks; the
 * caller decides how long a tick is.
 *
 * @param id this member's non-zero id
 * @param electionTicks a follower that hears no leader for a randomized [electionTicks,
 *     2*electionTicks) ticks campaigns
 * @param heartbeatTicks a leader sends heartbeats every heartbeatTicks; less than electionTicks
 * @param storage the durable log
 * @param applied the index the application has already applied (restart), 0 for none
 * @param maxSizePerMsgBytes cap on entry bytes in one APP message (one entry always fits)
 * @param maxCommittedSizePerReadyBytes cap on committed entry bytes handed out in one Ready
 * @param maxUncommittedEntriesSizeBytes a leader drops proposals while its uncommitted tail is
 *     larger; 0 for no limit
 * @param maxInflightMsgs APP messages in flight per follower in the replicate state
 * @param checkQuorum a leader steps down when it did not hear from a quorum for an election
 *     timeout, and followers in contact with a leader ignore vote requests
 * @param preVote campaign with a pre-vote round that does not raise terms
 * @param readOnlyOption how ReadIndex confirms leadership
 * @param disableProposalForwarding followers drop proposals instead of forwarding them
 * @param random the only source of randomness (election timeout jitter); seed it in tests
 */
public record Config(
    long id,
    int electionTicks,
    int heartbeatTicks,
    Storage storage,
    long applied,
    long maxSizePerMsgBytes,
    long maxCommittedSizePerReadyBytes,
    long maxUncommittedEntriesSizeBytes,
    int maxInflightMsgs,
    boolean checkQuorum,
    boolean preVote,
    ReadOnlyOption readOnlyOption,
    boolean disableProposalForwarding,
    RandomGenerator random) {

  /** Defaults like etcd's server: 10/1 ticks, 1 MiB messages, 256 in flight, pre-vote and check-quorum on. */
  public static Config defaults(long id, Storage storage, RandomGenerator random) {
    return new Config(id, 10, 1, storage, 0, 1024 * 1024, 64L * 1024 * 1024, 1L << 30, 256,
        true, true, ReadOnlyOption.SAFE, false, random);
  }

  public Config withApplied(long v) {
    return new Config(id, electionTicks, heartbeatTicks, storage, v, maxSizePerMsgBytes,
        maxCommittedSizePerReadyBytes, maxUncommittedEntriesSizeBytes, maxInflightMsgs, checkQuorum, preVote,
        readOnlyOption, disableProposalForwarding, random);
  }

  public Config withTicks(int election, int heartbeat) {
    return new Config(id, election, heartbeat, storage, applied, maxSizePerMsgBytes,
        maxCommittedSizePerReadyBytes, maxUncommittedEntriesSizeBytes, maxInflightMsgs, checkQuorum, preVote,
        readOnlyOption, disableProposalForwarding, random);
  }

  public Config withReadOnlyOption(ReadOnlyOption v) {
    return new Config(id, electionTicks, heartbeatTicks, storage, applied, maxSizePerMsgBytes,
        maxCommittedSizePerReadyBytes, maxUncommittedEntriesSizeBytes, maxInflightMsgs, checkQuorum, preVote,
        v, disableProposalForwarding, random);
  }

  public Config withLimits(long maxSizePerMsg, int maxInflight, long maxUncommitted) {
    return new Config(id, electionTicks, heartbeatTicks, storage, applied, maxSizePerMsg,
        maxCommittedSizePerReadyBytes, maxUncommitted, maxInflight, checkQuorum, preVote,
        readOnlyOption, disableProposalForwarding, random);
  }

  public Config withElectionSafety(boolean checkQuorum, boolean preVote) {
    return new Config(id, electionTicks, heartbeatTicks, storage, applied, maxSizePerMsgBytes,
        maxCommittedSizePerReadyBytes, maxUncommittedEntriesSizeBytes, maxInflightMsgs, checkQuorum, preVote,
        readOnlyOption, disableProposalForwarding, random);
  }

  /** Checks every value, with a message naming the field. */
  public void validate() {
    if (id == 0) {
      throw new IllegalArgumentException("cannot use none as id");
    }
    if (heartbeatTicks <= 0) {
      throw new IllegalArgumentException("heartbeat tick must be greater than 0");
    }
    if (electionTicks <= heartbeatTicks) {
      throw new IllegalArgumentException("election tick must be greater than heartbeat tick");
    }
    Objects.requireNonNull(storage, "storage cannot be null");
    Objects.requireNonNull(random, "random cannot be null");
    Objects.requireNonNull(readOnlyOption, "readOnlyOption cannot be null");
    if (maxInflightMsgs <= 0) {
      throw new IllegalArgumentException("max inflight messages must be greater than 0");
    }
    if (maxSizePerMsgBytes <= 0 || maxCommittedSizePerReadyBytes <= 0) {
      throw new IllegalArgumentException("message and ready size limits must be greater than 0");
    }
    if (maxUncommittedEntriesSizeBytes < 0) {
      throw new IllegalArgumentException("max uncommitted entries size must not be negative");
    }
    if (readOnlyOption == ReadOnlyOption.LEASE_BASED && !checkQuorum) {
      throw new IllegalArgumentException("CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
    }
    if (applied < 0) {
      throw new IllegalArgumentException("applied must not be negative");
    }
  }
}
