package io.kvorum.server.transport;

/**
 * What the transport tells the member's metrics about each peer (etcd's rafthttp metrics): raft
 * bytes sent to it and received from it, messages dropped on their way to it, and probe round
 * trips. {@link #peer} is asked once per sender or inbound stream, which then only counts.
 */
public interface PeerObserver {
  PeerObserver NONE = id -> Peer.NONE;

  /** The counters of member {@code peerId}. */
  Peer peer(long peerId);

  /** One peer's counters; called on the transport's threads, never blocking. */
  interface Peer {
    Peer NONE = new Peer() {};

    /** {@code bytes} of raft messages (or snapshot chunks) were written to the peer. */
    default void sent(long bytes) {}

    /** {@code bytes} of raft messages were read from the peer. */
    default void received(long bytes) {}

    /** {@code messages} to the peer were dropped before they reached the wire, {@code heartbeats} of them heartbeats. */
    default void dropped(int messages, int heartbeats) {}

    /** A probe of the peer answered after {@code nanos}. */
    default void roundTrip(long nanos) {}

    /** The stream to the peer, active until now, failed. */
    default void disconnected() {}
  }
}
