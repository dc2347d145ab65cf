package io.kvorum.server.mvcc;

import static io.kvorum.server.mvcc.KvStoreTest.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KvStore#hash}: the backend checksum and the revision of the same snapshot. */
class KvStoreHashTest {
  @TempDir Path dir;
  private Backend backend;
  private ManualExecutor compactor;
  private KvStore store;
  private long index;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    compactor = new ManualExecutor();
    store = KvStore.open(backend, KvStoreConfig.DEFAULT, compactor);
  }

  @AfterEach
  void close() {
    store.close();
    backend.close();
  }

  private void reopen() {
    close();
    open();
  }

  /** The consistent index of the next entry, as the apply loop would pass it. */
  private ConsistentIndex next() {
    index++;
    return new ConsistentIndex(index, 1);
  }

  @Test
  void hash_noWrites_isStable_andRevisionIsTheCurrentOne() {
    BackendHash empty = store.hash();
    assertThat(empty.revision()).isEqualTo(1).isEqualTo(store.currentRevision());
    assertThat(store.hash()).isEqualTo(empty);

    store.put(b("a"), b("1"), 0, next());
    store.put(b("b"), b("2"), 0, next());
    BackendHash h = store.hash();
    assertThat(h.revision()).isEqualTo(3).isEqualTo(store.currentRevision());
    assertThat(store.hash()).isEqualTo(h);
    reopen();
    assertThat(store.hash()).isEqualTo(h);
  }

  @Test
  void hash_putAndDelete_changeIt() {
    store.put(b("a"), b("1"), 0, next());
    BackendHash before = store.hash();

    store.put(b("a"), b("1"), 0, next());
    BackendHash samePutAgain = store.hash();
    assertThat(samePutAgain.hash()).isNotEqualTo(before.hash());
    assertThat(samePutAgain.revision()).isEqualTo(before.revision() + 1);

    store.deleteRange(KeyRange.single(b("a")), next());
    BackendHash deleted = store.hash();
    assertThat(deleted.hash()).isNotEqualTo(samePutAgain.hash());
    assertThat(deleted.revision()).isEqualTo(store.currentRevision()).isEqualTo(samePutAgain.revision() + 1);

    // A delete of nothing writes nothing (not even the consistent index): no new revision, same hash.
    store.deleteRange(KeyRange.single(b("nothing")), next());
    assertThat(store.hash()).isEqualTo(deleted);
  }

  @Test
  void hash_entryWithoutEffects_onlyMovesTheConsistentIndex_leavesItUnchanged() {
    store.put(b("a"), b("1"), 0, next());
    BackendHash before = store.hash();
    // The same content as another member that did not record this position.
    try (Batch batch = backend.newBatch()) {
      batch.setConsistentIndex(new ConsistentIndex(100, 7));
      backend.commit(batch);
    }
    assertThat(store.hash()).isEqualTo(before);
  }

  @Test
  void hash_everyRevisionCompactedAway_revisionComesFromTheCompactionMark() {
    store.put(b("a"), b("1"), 0, next());
    store.deleteRange(KeyRange.single(b("a")), next());
    assertThat(store.currentRevision()).isEqualTo(3);
    BackendHash beforeCompaction = store.hash();

    store.compact(3, next());
    BackendHash scheduled = store.hash();
    assertThat(scheduled.revision()).isEqualTo(3);
    assertThat(scheduled.hash()).isNotEqualTo(beforeCompaction.hash());

    compactor.runAll();
    try (var v = backend.snapshotView()) {
      assertThat(v.lastKey(Bucket.KEY)).as("no revision left").isNull();
      assertThat(v.get(Bucket.COMPACTION, Schema.compactionFinishedKey())).isNotNull();
    }
    BackendHash finished = store.hash();
    assertThat(finished.revision()).isEqualTo(3).isEqualTo(store.currentRevision());
    assertThat(finished.hash()).isNotEqualTo(scheduled.hash());

    reopen();
    assertThat(store.currentRevision()).isEqualTo(3);
    assertThat(store.hash()).isEqualTo(finished);
  }
}
