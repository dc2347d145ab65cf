package io.kvorum.server.lease;

/**
 * What the lessor tells the member's metrics (etcd's lease metrics): grants with their TTL,
 * revocations, and renewals by the leader. Called under the lessor's lock; an implementation only
 * counts.
 */
public interface LeaseObserver {
  LeaseObserver NONE = new LeaseObserver() {};

  /** A lease was granted (applied) with {@code ttlSeconds}, the TTL it got. */
  default void granted(long ttlSeconds) {}

  /** A lease was revoked (applied). */
  default void revoked() {}

  /** The leader renewed a lease. */
  default void renewed() {}
}
