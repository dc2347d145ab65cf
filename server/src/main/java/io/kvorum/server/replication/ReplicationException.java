package io.kvorum.server.replication;

/** Why a proposal or read could not be served; the API edge maps each kind to etcd's error. */
public final class ReplicationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The failure kinds, each mapped to one etcd error at the edge. */
  public enum Kind {
    /** No leader is known ("etcdserver: no leader"). */
    NO_LEADER,
    /** The inbox is full ("etcdserver: too many requests"). */
    TOO_MANY_REQUESTS,
    /** raft dropped the proposal though a leader is known ("raft proposal dropped", as etcd 3.4). */
    DROPPED,
    /** The leader changed while a read waited ("etcdserver: leader changed"). */
    LEADER_CHANGED,
    /** The member is stopping ("etcdserver: server stopped"). */
    STOPPED
  }

  private final Kind kind;

  public ReplicationException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
