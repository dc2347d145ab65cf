package io.kvorum.server.metrics;

import java.util.List;

/**
 * What the member's gauges read at scrape time: state the member keeps anyway, so nothing is
 * counted twice on the request path. The member implements it; every method must be cheap, must
 * not block and may be called from any thread.
 */
public interface MemberGauges {
  /** This member's id. */
  long memberId();

  /** The leader this member knows; 0 for none. */
  long leader();

  boolean isLeader();

  boolean isLearner();

  /** Times this member saw a new leader. */
  long leaderChanges();

  /** The raft commit index. */
  long committedIndex();

  /** The index this member applied. */
  long appliedIndex();

  /** Proposals waiting to be applied. */
  long pendingProposals();

  /** Proposals refused or timed out. */
  long failedProposals();

  /** Requests that took longer than etcd's 100 ms to apply. */
  long slowApplies();

  /** Leases the leader found expired. */
  long expiredLeases();

  /** True while a snapshot from the leader is being installed. */
  boolean applyingSnapshot();

  /** The backend quota in bytes. */
  long quotaBackendBytes();

  /** Bytes the backend occupies on disk. */
  long dbSizeBytes();

  /** Bytes of live data in the backend. */
  long dbInUseBytes();

  /** Keys live at the current revision. */
  long liveKeys();

  long currentRevision();

  /** The compaction revision, -1 if never compacted. */
  long compactRevision();

  long watchStreams();

  long watchers();

  /** Watchers catching up from history. */
  long slowWatchers();

  /** Watch events handed to client streams. */
  long watchEventsSent();

  long authRevision();

  /** The members this one sends raft messages to. */
  List<Long> peers();

  /** True while the raft stream to {@code peerId} is open. */
  boolean peerActive(long peerId);
}
