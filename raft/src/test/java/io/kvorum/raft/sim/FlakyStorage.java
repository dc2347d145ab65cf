package io.kvorum.raft.sim;

import io.kvorum.raft.Entry;
import io.kvorum.raft.MemoryStorage;
import io.kvorum.raft.RaftException;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.Storage;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Raft's view of a member's {@link MemoryStorage} that sometimes answers {@link #snapshot()} with
 * {@link RaftException.SnapshotTemporarilyUnavailable}, as etcd's storage does while it is still
 * writing a snapshot: the leader must retry later instead of giving up on the follower.
 */
final class FlakyStorage implements Storage {
  private final MemoryStorage storage;
  private final SplittableRandom random;
  private final double unavailableRate;

  FlakyStorage(MemoryStorage storage, SplittableRandom random, double unavailableRate) {
    this.storage = storage;
    this.random = random;
    this.unavailableRate = unavailableRate;
  }

  @Override
  public InitialState initialState() {
    return storage.initialState();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxSizeBytes) {
    return storage.entries(lo, hi, maxSizeBytes);
  }

  @Override
  public long term(long i) {
    return storage.term(i);
  }

  @Override
  public long lastIndex() {
    return storage.lastIndex();
  }

  @Override
  public long firstIndex() {
    return storage.firstIndex();
  }

  @Override
  public Snapshot snapshot() {
    if (random.nextDouble() < unavailableRate) {
      throw new RaftException.SnapshotTemporarilyUnavailable();
    }
    return storage.snapshot();
  }
}
