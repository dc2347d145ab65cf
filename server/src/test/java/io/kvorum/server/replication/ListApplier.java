package io.kvorum.server.replication;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Snapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A test state machine: applied payloads in an in-memory list, shared by the raft loop tests. */
public class ListApplier implements Applier {
  public final List<ByteBuffer> applied = Collections.synchronizedList(new ArrayList<>());
  volatile long index;

  public ListApplier(long index) {
    this.index = index;
  }

  @Override
  public void apply(List<Entry> entries) {
    for (Entry e : entries) {
      if (e.type() == EntryType.NORMAL && e.data().length > 0) {
        applied.add(ByteBuffer.wrap(e.data()));
      }
      index = e.index();
    }
  }

  @Override
  public ConfChange applyConfChange(Entry e, ConfChange cc) {
    if (e.index() > index) {
      index = e.index();
    }
    return cc;
  }

  @Override
  public void restore(Snapshot snapshot) {
    index = snapshot.index();
  }

  @Override
  public long appliedIndex() {
    return index;
  }

  @Override
  public byte[] prepareSnapshot() {
    return new byte[0];
  }
}
