package io.kvorum.raft;

/** Base of the typed errors raft reports to its caller. */
public class RaftException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RaftException(String message) {
    super(message, null, false, false);
  }

  /** A proposal was not appended (no leader, leadership transfer, removed member, size limit). */
  public static final class ProposalDropped extends RaftException {
    private static final long serialVersionUID = 1L;

    public ProposalDropped(String reason) {
      super("raft proposal dropped: " + reason);
    }
  }

  /** Storage: the requested index is before the first retained entry. */
  public static final class Compacted extends RaftException {
    private static final long serialVersionUID = 1L;

    public Compacted() {
      super("requested index is unavailable due to compaction");
    }
  }

  /** Storage: the requested index is past the last entry. */
  public static final class Unavailable extends RaftException {
    private static final long serialVersionUID = 1L;

    public Unavailable() {
      super("requested entry at index is unavailable");
    }
  }

  /** Storage: a snapshot older than the current one was offered. */
  public static final class SnapOutOfDate extends RaftException {
    private static final long serialVersionUID = 1L;

    public SnapOutOfDate() {
      super("requested index is older than the existing snapshot");
    }
  }

  /** Storage: a snapshot is being made; the leader retries later. */
  public static final class SnapshotTemporarilyUnavailable extends RaftException {
    private static final long serialVersionUID = 1L;

    public SnapshotTemporarilyUnavailable() {
      super("snapshot is temporarily unavailable");
    }
  }

  /** A caller stepped a local message kind from the network, or a peer sent a malformed one. */
  public static final class InvalidMessage extends RaftException {
    private static final long serialVersionUID = 1L;

    public InvalidMessage(String message) {
      super(message);
    }
  }
}
