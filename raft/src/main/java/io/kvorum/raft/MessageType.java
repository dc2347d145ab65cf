package io.kvorum.raft;

/** The kinds of {@link Message}. Local kinds are stepped by the caller and never sent on the wire. */
public enum MessageType {
  /** Local: start an election. */
  HUP(true),
  /** Local: leader sends heartbeats. */
  BEAT(true),
  /** A client proposal; forwarded from followers to the leader. */
  PROP(false),
  APP(false),
  APP_RESP(false),
  VOTE(false),
  VOTE_RESP(false),
  SNAP(false),
  HEARTBEAT(false),
  HEARTBEAT_RESP(false),
  /** Local: the transport could not reach {@code from}. */
  UNREACHABLE(true),
  /** Local: the outcome of sending a snapshot to {@code from}; {@code reject} means it failed. */
  SNAP_STATUS(true),
  /** Local: leader checks that it still hears from a quorum. */
  CHECK_QUORUM(true),
  /** Ask the leader to transfer leadership to {@code from}. */
  TRANSFER_LEADER(false),
  /** The leader tells a caught-up transferee to campaign at once. */
  TIMEOUT_NOW(false),
  READ_INDEX(false),
  READ_INDEX_RESP(false),
  PRE_VOTE(false),
  PRE_VOTE_RESP(false);

  private final boolean local;

  MessageType(boolean local) {
    this.local = local;
  }

  public boolean isLocal() {
    return local;
  }

  public boolean isResponse() {
    return this == APP_RESP
        || this == VOTE_RESP
        || this == HEARTBEAT_RESP
        || this == UNREACHABLE
        || this == PRE_VOTE_RESP;
  }

  /** The response kind to a (pre-)vote request. */
  static MessageType voteResponseFor(MessageType t) {
    return switch (t) {
      case VOTE -> VOTE_RESP;
      case PRE_VOTE -> PRE_VOTE_RESP;
      default -> throw new IllegalArgumentException("not a vote message: " + t);
    };
  }
}
