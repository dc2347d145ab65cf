package io.kvorum.server.transport;

import java.time.Duration;

/**
 * Limits and timings of the peer transport, validated when built.
 *
 * @param peerQueueMessagesMax messages queued for one peer; more are dropped and the peer reported
 *     unreachable (etcd's stream buffer holds 4096)
 * @param batchBytesMax approximate bytes of messages sent in one {@code MessageBatch}; a single
 *     larger message still goes alone
 * @param messageBytesMax the largest wire message a member accepts; the sender drops (and reports)
 *     a message that would not fit rather than break the stream with it
 * @param backoffMin wait before the first reconnection to a peer after a failure
 * @param backoffMax the wait doubles per consecutive failure up to this
 * @param dialTimeout how long a connection attempt (the probe of the peer) may take
 * @param keepAliveTime idle time after which a connection is pinged; a dead peer is detected within
 *     about this plus {@code keepAliveTimeout}
 * @param keepAliveTimeout how long a ping may go unanswered before the connection is dropped
 * @param handshakeTimeout how long an accepted connection may take to become a gRPC connection
 *     (raft streams are exempt once they said what they are)
 */
public record TransportSettings(
    int peerQueueMessagesMax,
    int batchBytesMax,
    int messageBytesMax,
    Duration backoffMin,
    Duration backoffMax,
    Duration dialTimeout,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration handshakeTimeout) {

  public static final int PEER_QUEUE_MESSAGES_MAX = 4096;
  public static final int BATCH_BYTES_MAX = 4 * 1024 * 1024;
  /** Room for etcd's 1.5 MiB requests (and their raft and batch framing) many times over. */
  public static final int MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
  public static final Duration BACKOFF_MIN = Duration.ofMillis(100);
  public static final Duration BACKOFF_MAX = Duration.ofSeconds(2);
  /** etcd's peer dial timeout with its default 1 s election timeout: 1 s + election timeout. */
  public static final Duration DIAL_TIMEOUT = Duration.ofSeconds(2);
  /** gRPC refuses client keepalive pings more often than every 10 s. */
  public static final Duration KEEP_ALIVE_TIME = Duration.ofSeconds(10);
  public static final Duration KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(5);
  /** gRPC's own default. */
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(120);

  public TransportSettings {
    require(peerQueueMessagesMax >= 1, "peerQueueMessagesMax must be at least 1, got %d", peerQueueMessagesMax);
    require(messageBytesMax >= 1024, "messageBytesMax must be at least 1024, got %d", messageBytesMax);
    require(batchBytesMax >= 1 && batchBytesMax <= messageBytesMax,
        "batchBytesMax must be in [1, messageBytesMax (%d)], got %d", messageBytesMax, batchBytesMax);
    require(positive(backoffMin), "backoffMin must be positive, got %s", backoffMin);
    require(positive(backoffMax) && backoffMax.compareTo(backoffMin) >= 0,
        "backoffMax must be at least backoffMin (%s), got %s", backoffMin, backoffMax);
    require(positive(dialTimeout), "dialTimeout must be positive, got %s", dialTimeout);
    require(positive(keepAliveTime), "keepAliveTime must be positive, got %s", keepAliveTime);
    require(positive(keepAliveTimeout), "keepAliveTimeout must be positive, got %s", keepAliveTimeout);
    require(positive(handshakeTimeout), "handshakeTimeout must be positive, got %s", handshakeTimeout);
  }

  public static TransportSettings defaults() {
    return new TransportSettings(PEER_QUEUE_MESSAGES_MAX, BATCH_BYTES_MAX, MESSAGE_BYTES_MAX,
        BACKOFF_MIN, BACKOFF_MAX, DIAL_TIMEOUT, KEEP_ALIVE_TIME, KEEP_ALIVE_TIMEOUT,
        HANDSHAKE_TIMEOUT);
  }

  public TransportSettings withPeerQueueMessagesMax(int v) {
    return new TransportSettings(v, batchBytesMax, messageBytesMax, backoffMin, backoffMax, dialTimeout,
        keepAliveTime, keepAliveTimeout, handshakeTimeout);
  }

  public TransportSettings withMessageBytesMax(int v) {
    return new TransportSettings(peerQueueMessagesMax, batchBytesMax, v, backoffMin, backoffMax, dialTimeout,
        keepAliveTime, keepAliveTimeout, handshakeTimeout);
  }

  public TransportSettings withBatchBytesMax(int v) {
    return new TransportSettings(peerQueueMessagesMax, v, messageBytesMax, backoffMin, backoffMax, dialTimeout,
        keepAliveTime, keepAliveTimeout, handshakeTimeout);
  }

  public TransportSettings withBackoff(Duration min, Duration max) {
    return new TransportSettings(peerQueueMessagesMax, batchBytesMax, messageBytesMax, min, max, dialTimeout,
        keepAliveTime, keepAliveTimeout, handshakeTimeout);
  }

  public TransportSettings withDialTimeout(Duration v) {
    return new TransportSettings(peerQueueMessagesMax, batchBytesMax, messageBytesMax, backoffMin, backoffMax, v,
        keepAliveTime, keepAliveTimeout, handshakeTimeout);
  }

  public TransportSettings withKeepAlive(Duration time, Duration timeout) {
    return new TransportSettings(peerQueueMessagesMax, batchBytesMax, messageBytesMax, backoffMin, backoffMax,
        dialTimeout, time, timeout, handshakeTimeout);
  }

  public TransportSettings withHandshakeTimeout(Duration v) {
    return new TransportSettings(peerQueueMessagesMax, batchBytesMax, messageBytesMax, backoffMin, backoffMax,
        dialTimeout, keepAliveTime, keepAliveTimeout, v);
  }

  private static boolean positive(Duration d) {
    return d != null && !d.isNegative() && !d.isZero();
  }

  private static void require(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }
}
