package io.kvorum.server.lease;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The leases of one member (etcd's {@code lessor}), in two halves with different rules.
 *
 * <p><b>Replicated state</b>, changed only by applying log entries and therefore identical on
 * every member: which leases exist, their granted TTL, their last checkpointed remaining TTL, and
 * which keys are attached to each. The apply thread calls {@link #grant}, {@link #revoke},
 * {@link #checkpoint} and {@link #onChanges}; none of them reads the clock.
 *
 * <p><b>Leader state</b>, node-local: expiry deadlines from an injected clock, kept only while
 * this member is the leader ({@link #promote}/{@link #demote}). Expiry never deletes anything
 * here; the leader asks {@link #expired} which leases ran out and proposes their revocation
 * through the log, so the apply path stays deterministic. Deadlines sit in an indexed heap:
 * grant, renew and expire are O(log n). A lease handed out by {@link #expired} gets a retry
 * deadline (etcd's 3 s), so a revocation lost with a leader change is proposed again, and a
 * storm of simultaneous expiries is drained in bounded batches by the caller.
 *
 * <p><b>Checkpoints</b> (etcd 3.4): for a lease whose TTL is longer than the checkpoint interval,
 * the leader periodically proposes its remaining TTL ({@link #dueCheckpoints}); every member
 * records it, and a new leader counts from it instead of the full TTL, so a leader change does
 * not reset long leases. Renewing clears the checkpoint ({@link Renewal#clearCheckpoint}).
 *
 * <p>All methods are synchronized: the apply thread, the ticker and request threads share it.
 */
public final class Lessor {
  /** etcd's {@code MaxLeaseTTL}, in seconds. */
  public static final long MAX_TTL = 9_000_000_000L;
  /** etcd's retry interval for an expired lease whose revocation has not been applied yet. */
  public static final long EXPIRED_RETRY_NANOS = 3_000_000_000L;
  private static final long FOREVER = Long.MAX_VALUE;
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** One lease. Fields are guarded by the lessor. */
  static final class Lease {
    final long id;
    final long ttl;
    long remainingTtl;
    /** Attached keys; null while there are none. */
    Set<ByteString> keys;
    long expiryNanos = FOREVER;
    /** Handed out as expired: its revocation is on the way, it can no longer be renewed. */
    boolean expired;
    int expirySlot = -1;
    long checkpointNanos = FOREVER;
    int checkpointSlot = -1;

    Lease(long id, long ttl, long remainingTtl) {
      this.id = id;
      this.ttl = ttl;
      this.remainingTtl = remainingTtl;
    }

    /** What a new leader counts from: the checkpointed remainder if there is one. */
    long effectiveTtl() {
      return remainingTtl > 0 ? remainingTtl : ttl;
    }
  }

  /** A lease's state as {@code LeaseTimeToLive} reports it. */
  public record TimeToLive(long id, long remainingSeconds, long grantedTtl, List<ByteString> keys) {}

  /** The outcome of a renewal: the granted TTL, and whether a checkpoint must be cleared. */
  public record Renewal(long ttl, boolean clearCheckpoint) {}

  /** Thrown by leader-only calls on a member that is not the leader. */
  public static final class NotPrimaryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotPrimaryException() {
      super("not a primary lessor", null, false, false);
    }
  }

  private final long minTtl;
  private final LongSupplier clock;
  private final long checkpointIntervalNanos;
  private final Map<Long, Lease> leases = new HashMap<>();
  private final Map<ByteString, Long> keyLease = new HashMap<>();
  private final LeaseHeap expiries = new LeaseHeap(LeaseHeap.EXPIRY);
  private final LeaseHeap checkpoints = new LeaseHeap(LeaseHeap.CHECKPOINT);
  private LeaseObserver observer = LeaseObserver.NONE;
  private boolean primary;
  /** {@code leases.size()}, readable without the lock (the backend quota reads it for every write). */
  private volatile int count;

  /**
   * @param minTtlSeconds the smallest TTL granted (etcd derives it from the election timeout)
   * @param nanoClock a monotonic clock in nanoseconds; only leader-side calls read it
   * @param checkpointIntervalNanos how often the leader checkpoints long leases; 0 disables it
   */
  public Lessor(long minTtlSeconds, LongSupplier nanoClock, long checkpointIntervalNanos) {
    this.minTtl = minTtlSeconds;
    this.clock = nanoClock;
    this.checkpointIntervalNanos = checkpointIntervalNanos;
  }

  /** Reports grants, revocations and renewals to {@code o} from now on. */
  public synchronized void observe(LeaseObserver o) {
    observer = o;
  }

  /** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
  public static long minTtlSeconds(long electionTicks, long heartbeatMillis) {
    long ms = (3 * electionTicks / 2) * heartbeatMillis;
    return (ms + 999) / 1000;
  }

  // ---------------------------------------------------------------- replicated state (apply thread)

  /** Loads a lease found in the backend on start (no expiry until a promotion). */
  public synchronized void restore(long id, long ttl, long remainingTtl) {
    leases.put(id, new Lease(id, ttl, remainingTtl));
    count = leases.size();
  }

  /** Forgets every lease (before a snapshot installed from the leader is loaded with {@link #restore}). */
  public synchronized void clear() {
    leases.clear();
    keyLease.clear();
    expiries.clear();
    checkpoints.clear();
    count = 0;
  }

  /** Re-attaches keys found in the store on start; keys of unknown leases are ignored, as in etcd. */
  public synchronized void restoreKeys(Map<ByteString, Long> attached) {
    for (Map.Entry<ByteString, Long> e : attached.entrySet()) {
      attach(e.getKey(), e.getValue());
    }
  }

  public synchronized boolean exists(long id) {
    return leases.containsKey(id);
  }

  /**
   * Grants lease {@code id}; the caller has checked that it does not exist and that the TTL is not
   * above {@link #MAX_TTL}.
   *
   * @return the TTL granted: at least the minimum TTL
   */
  public synchronized long grant(long id, long ttl) {
    long granted = Math.max(ttl, minTtl);
    Lease l = new Lease(id, granted, 0);
    leases.put(id, l);
    count = leases.size();
    if (primary) {
      long now = clock.getAsLong();
      l.expiryNanos = now + granted * NANOS_PER_SECOND;
      expiries.upsert(l);
      scheduleCheckpoint(l, now);
    }
    observer.granted(granted);
    return granted;
  }

  /** The TTL a grant of {@code ttl} seconds gets. */
  public long grantedTtl(long ttl) {
    return Math.max(ttl, minTtl);
  }

  /**
   * Removes lease {@code id}.
   *
   * @return the keys that were attached to it, sorted; null if there is no such lease
   */
  public synchronized List<ByteString> revoke(long id) {
    Lease l = leases.remove(id);
    if (l == null) {
      return null;
    }
    count = leases.size();
    expiries.remove(l);
    checkpoints.remove(l);
    observer.revoked();
    List<ByteString> keys = new ArrayList<>();
    if (l.keys != null) {
      keys.addAll(l.keys);
      for (ByteString k : l.keys) {
        keyLease.remove(k);
      }
      keys.sort(ByteString.unsignedLexicographicalComparator());
    }
    return keys;
  }

  /** The keys attached to {@code id}, sorted; empty if none or no such lease. */
  public synchronized List<ByteString> keys(long id) {
    Lease l = leases.get(id);
    if (l == null || l.keys == null) {
      return List.of();
    }
    List<ByteString> keys = new ArrayList<>(l.keys);
    keys.sort(ByteString.unsignedLexicographicalComparator());
    return keys;
  }

  /** Records a checkpointed remaining TTL; false if the lease does not exist. */
  public synchronized boolean checkpoint(long id, long remainingTtl) {
    Lease l = leases.get(id);
    if (l == null) {
      return false;
    }
    l.remainingTtl = remainingTtl;
    return true;
  }

  /** The stored form of lease {@code id}: {ttl, remainingTtl}; null if it does not exist. */
  public synchronized long[] record(long id) {
    Lease l = leases.get(id);
    return l == null ? null : new long[] {l.ttl, l.remainingTtl};
  }

  /** Attaches and detaches keys after a committed write: PUT events attach, DELETE events detach. */
  public synchronized void onChanges(List<Event> changes) {
    for (Event e : changes) {
      KeyValue kv = e.getKv();
      if (e.getType() == Event.EventType.DELETE) {
        detach(kv.getKey());
      } else {
        Long old = keyLease.get(kv.getKey());
        if (old != null && old != kv.getLease()) {
          detach(kv.getKey());
        }
        if (kv.getLease() != 0 && (old == null || old != kv.getLease())) {
          attach(kv.getKey(), kv.getLease());
        }
      }
    }
  }

  private void attach(ByteString key, long id) {
    Lease l = leases.get(id);
    if (l == null) {
      return;
    }
    if (l.keys == null) {
      l.keys = new HashSet<>(4);
    }
    l.keys.add(key);
    keyLease.put(key, id);
  }

  private void detach(ByteString key) {
    Long id = keyLease.remove(key);
    if (id == null) {
      return;
    }
    Lease l = leases.get(id);
    if (l != null && l.keys != null) {
      l.keys.remove(key);
      if (l.keys.isEmpty()) {
        l.keys = null;
      }
    }
  }

  /** Every lease id, in no particular order. */
  public synchronized List<Long> ids() {
    return new ArrayList<>(leases.keySet());
  }

  /** How many leases exist; lock-free. */
  public int size() {
    return count;
  }

  // ---------------------------------------------------------------- leader state

  public synchronized boolean isPrimary() {
    return primary;
  }

  /**
   * This member became the leader: every lease expires its (checkpointed) TTL plus {@code
   * extendNanos} from now, as etcd extends leases by an election timeout on a leader change.
   */
  public synchronized void promote(long extendNanos) {
    primary = true;
    long now = clock.getAsLong();
    expiries.clear();
    checkpoints.clear();
    for (Lease l : leases.values()) {
      l.expired = false;
      l.expiryNanos = now + extendNanos + l.effectiveTtl() * NANOS_PER_SECOND;
      expiries.upsert(l);
      scheduleCheckpoint(l, now);
    }
  }

  /** This member is no longer the leader: no lease expires here. */
  public synchronized void demote() {
    primary = false;
    for (Lease l : leases.values()) {
      l.expired = false;
      l.expiryNanos = FOREVER;
      l.checkpointNanos = FOREVER;
    }
    expiries.clear();
    checkpoints.clear();
  }

  /**
   * Renews lease {@code id} for its full TTL.
   *
   * @return the renewal, or null if the lease does not exist or has already expired (it is being
   *     revoked)
   * @throws NotPrimaryException if this member is not the leader
   */
  public synchronized Renewal renew(long id) {
    if (!primary) {
      throw new NotPrimaryException();
    }
    Lease l = leases.get(id);
    long now = clock.getAsLong();
    if (l == null || l.expired || l.expiryNanos <= now) {
      return null;
    }
    boolean clear = l.remainingTtl > 0;
    l.expiryNanos = now + l.ttl * NANOS_PER_SECOND;
    expiries.upsert(l);
    scheduleCheckpoint(l, now);
    observer.renewed();
    return new Renewal(l.ttl, clear);
  }

  /**
   * A lease's remaining time, granted TTL and (optionally) keys.
   *
   * @return null if the lease does not exist
   * @throws NotPrimaryException if this member is not the leader (only it knows the deadline)
   */
  public synchronized TimeToLive timeToLive(long id, boolean withKeys) {
    if (!primary) {
      throw new NotPrimaryException();
    }
    Lease l = leases.get(id);
    if (l == null) {
      return null;
    }
    long remaining = l.expired ? 0 : Math.max(0, (l.expiryNanos - clock.getAsLong()) / NANOS_PER_SECOND);
    return new TimeToLive(id, remaining, l.ttl, withKeys ? keys(id) : List.of());
  }

  /**
   * Up to {@code max} leases whose deadline passed, earliest first. Each gets a retry deadline, so
   * it comes back if its revocation is not applied within {@link #EXPIRED_RETRY_NANOS}.
   */
  public synchronized List<Long> expired(int max) {
    List<Long> out = new ArrayList<>();
    if (!primary) {
      return out;
    }
    long now = clock.getAsLong();
    while (out.size() < max) {
      Lease l = expiries.peek();
      if (l == null || l.expiryNanos > now) {
        break;
      }
      out.add(l.id);
      l.expired = true;
      l.expiryNanos = now + EXPIRED_RETRY_NANOS;
      expiries.upsert(l);
    }
    return out;
  }

  /**
   * Up to {@code max} checkpoints that are due: pairs {id, remaining TTL in whole seconds, rounded
   * up}. Each lease is rescheduled one interval later while it still has more than an interval
   * left.
   */
  public synchronized List<long[]> dueCheckpoints(int max) {
    List<long[]> out = new ArrayList<>();
    if (!primary || checkpointIntervalNanos <= 0) {
      return out;
    }
    long now = clock.getAsLong();
    while (out.size() < max) {
      Lease l = checkpoints.peek();
      if (l == null || l.checkpointNanos > now) {
        break;
      }
      checkpoints.remove(l);
      long left = l.expiryNanos - now;
      if (left <= 0 || l.expired) {
        continue;
      }
      out.add(new long[] {l.id, (left + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND});
      if (left > checkpointIntervalNanos) {
        l.checkpointNanos = now + checkpointIntervalNanos;
        checkpoints.upsert(l);
      }
    }
    return out;
  }

  private void scheduleCheckpoint(Lease l, long now) {
    if (checkpointIntervalNanos <= 0) {
      return;
    }
    if (l.expiryNanos - now > checkpointIntervalNanos) {
      l.checkpointNanos = now + checkpointIntervalNanos;
      checkpoints.upsert(l);
    } else {
      checkpoints.remove(l);
    }
  }
}
