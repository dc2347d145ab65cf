package io.kvorum.server.mvcc;

import static io.kvorum.server.mvcc.KvStoreTest.b;
import static io.kvorum.server.mvcc.KvStoreTest.kv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompactionTest {
  private static final ConsistentIndex CI = ConsistentIndex.ZERO;

  /** Every revision key in the backend, as "main_sub" with a trailing "t" for tombstones. */
  static List<String> storedRevisions(Backend backend) {
    List<String> out = new ArrayList<>();
    try (ReadView v = backend.snapshotView()) {
      v.scanKeys(Bucket.KEY, new byte[0], null, Long.MAX_VALUE, k ->
          out.add(Revision.fromKey(k) + (Revision.isTombstoneKey(k) ? "t" : "")));
    }
    return out;
  }

  private static long mark(Backend backend, byte[] key) {
    byte[] v = backend.get(Bucket.COMPACTION, key);
    return v == null ? -1 : Schema.readLong(v, "mark");
  }

  /** a: 2 3 4(t) 6 | b: 5 7 | c: 8 (txn at 9 puts d and deletes c). */
  private static void history(KvStore s) {
    s.put(b("a"), b("1"), 0, CI);
    s.put(b("a"), b("2"), 0, CI);
    s.deleteRange(KeyRange.single(b("a")), CI);
    s.put(b("b"), b("1"), 0, CI);
    s.put(b("a"), b("3"), 0, CI);
    s.put(b("b"), b("2"), 0, CI);
    s.put(b("c"), b("1"), 0, CI);
    try (WriteTxn txn = s.write(CI)) {
      txn.put(b("d"), b("1"), 0);
      txn.deleteRange(KeyRange.single(b("c")));
      txn.end();
    }
  }

  @Test
  void compact_physical_removesExactlyWhatEtcdRemoves(@TempDir Path dir) throws Exception {
    ManualExecutor ex = new ManualExecutor();
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend, new KvStoreConfig(3), ex)) {
      history(s);
      assertThat(storedRevisions(backend)).containsExactly(
          "2_0", "3_0", "4_0t", "5_0", "6_0", "7_0", "8_0", "9_0", "9_1t");

      CompletableFuture<Void> done = s.compact(6, CI);
      // Logical compaction is immediate; nothing is deleted until the compactor runs.
      assertThat(s.compactRevision()).isEqualTo(6);
      assertThat(mark(backend, Schema.compactionScheduledKey())).isEqualTo(6);
      assertThat(mark(backend, Schema.compactionFinishedKey())).isEqualTo(-1);
      assertThat(done).isNotDone();
      assertThat(storedRevisions(backend)).hasSize(9);

      assertThat(ex.runAll()).isEqualTo(2); // 5 revisions at or below 6, 3 per batch
      assertThat(done).isCompletedWithValue(null);
      assertThat(s.physicalCompactionDone()).isDone();
      // a's first generation ended at 4: gone. a keeps 6, b keeps 5 (its newest at or below 6).
      assertThat(storedRevisions(backend)).containsExactly(
          "5_0", "6_0", "7_0", "8_0", "9_0", "9_1t");
      assertThat(mark(backend, Schema.compactionFinishedKey())).isEqualTo(6);
      assertThat(s.range(KeyRange.atLeast(b("")), RangeOptions.DEFAULT.atRevision(6)).kvs())
          .containsExactly(kv("a", "3", 6, 6, 1, 0), kv("b", "1", 5, 5, 1, 0));

      s.compact(9, CI);
      ex.runAll();
      // Newest of each live key at or below 9 (a 6, b 7, d 9); c's generation ended at 9: gone.
      assertThat(storedRevisions(backend)).containsExactly("6_0", "7_0", "9_0");
    }
  }

  @Test
  void compact_manyWaiting_theNewestSupersedesTheNotStarted(@TempDir Path dir) throws Exception {
    ManualExecutor ex = new ManualExecutor();
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend, new KvStoreConfig(3), ex)) {
      history(s);
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (long rev : new long[] {3, 5, 7, 8}) {
        done.add(s.compact(rev, CI));
        assertThat(s.compactionsQueued()).isLessThanOrEqualTo(Compactor.JOBS_MAX);
      }
      assertThat(s.compactionsQueued()).isEqualTo(2); // 3 (first in line), then 8; 5 and 7 waited on 8
      assertThat(done).noneMatch(CompletableFuture::isDone);
      ex.runAll();
      assertThat(done).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
      assertThat(s.compactionsQueued()).isZero();
      // What a compaction at 8 alone leaves: a 6, b 7, c 8, d 9 and the txn's tombstone of c.
      assertThat(storedRevisions(backend)).containsExactly("6_0", "7_0", "8_0", "9_0", "9_1t");
      assertThat(mark(backend, Schema.compactionFinishedKey())).isEqualTo(8);
    }
  }

  @Test
  void close_supersededCompaction_failsWithTheNewest(@TempDir Path dir) {
    ManualExecutor ex = new ManualExecutor();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend, new KvStoreConfig(3), ex)) {
      history(s);
      for (long rev : new long[] {3, 5, 7}) {
        done.add(s.compact(rev, CI));
      }
    }
    assertThat(done).allMatch(CompletableFuture::isCompletedExceptionally);
  }

  @Test
  void compact_restartMidway_resumesAndFinishes(@TempDir Path dir) throws Exception {
    int keys = 20;
    Index compactedIndex;
    List<String> expected;
    // First, the reference: the same history compacted without interruption.
    try (Backend backend = Backend.open(dir.resolve("reference"));
        KvStore s = KvStore.open(backend, new KvStoreConfig(4), new ManualExecutor())) {
      longHistory(s, keys);
      s.compact(s.currentRevision() - 5, CI);
      compactedIndex = s.index();
    }
    try (Backend backend = Backend.open(dir.resolve("reference"))) {
      // Unfinished: the reopened store resumes the compaction; run it to the end.
      ManualExecutor ex = new ManualExecutor();
      try (KvStore s = KvStore.open(backend, new KvStoreConfig(4), ex)) {
        ex.runAll();
        expected = storedRevisions(backend);
        assertThat(s.index().sameAs(compactedIndex)).isTrue();
      }
    }

    Path db = dir.resolve("db");
    long compactAt;
    int before;
    try (Backend backend = Backend.open(db)) {
      ManualExecutor ex = new ManualExecutor();
      try (KvStore s = KvStore.open(backend, new KvStoreConfig(4), ex)) {
        longHistory(s, keys);
        compactAt = s.currentRevision() - 5;
        before = storedRevisions(backend).size();
        CompletableFuture<Void> done = s.compact(compactAt, CI);
        assertThat(ex.runOne()).isTrue();
        assertThat(ex.runOne()).isTrue();
        assertThat(done).isNotDone();
        assertThat(storedRevisions(backend).size()).isLessThan(before);
        assertThat(storedRevisions(backend)).isNotEqualTo(expected);
      }
      // Closing the store abandoned the rest.
      assertThat(ex.runAll()).isLessThanOrEqualTo(1);
      assertThat(mark(backend, Schema.compactionFinishedKey())).isEqualTo(-1);
      assertThat(mark(backend, Schema.compactionScheduledKey())).isEqualTo(compactAt);
    }

    try (Backend backend = Backend.open(db)) {
      ManualExecutor ex = new ManualExecutor();
      try (KvStore s = KvStore.open(backend, new KvStoreConfig(4), ex)) {
        assertThat(s.compactRevision()).isEqualTo(compactAt);
        assertThat(s.currentRevision()).isEqualTo(compactAt + 5);
        CompletableFuture<Void> done = s.physicalCompactionDone();
        assertThat(done).isNotDone();
        assertThat(ex.runAll()).isPositive();
        assertThat(done).isCompletedWithValue(null);
        assertThat(storedRevisions(backend)).isEqualTo(expected);
        assertThat(mark(backend, Schema.compactionFinishedKey())).isEqualTo(compactAt);
        assertThat(s.index().sameAs(compactedIndex)).isTrue();
        assertThatThrownBy(() -> s.range(KeyRange.single(b("k0")),
            RangeOptions.DEFAULT.atRevision(compactAt - 1)))
            .isInstanceOf(CompactedException.class);
      }
    }
    // And once finished, a reopen has nothing left to do.
    try (Backend backend = Backend.open(db)) {
      ManualExecutor ex = new ManualExecutor();
      try (KvStore s = KvStore.open(backend, new KvStoreConfig(4), ex)) {
        assertThat(ex.queued()).isZero();
        assertThat(s.physicalCompactionDone()).isDone();
        assertThat(s.index().sameAs(compactedIndex)).isTrue();
      }
    }
  }

  /** Several versions of {@code keys} keys, some deleted and recreated. */
  private static void longHistory(KvStore s, int keys) {
    for (int round = 0; round < 4; round++) {
      for (int k = 0; k < keys; k++) {
        s.put(b("k" + k), b("v" + round), 0, CI);
        if (round == 1 && k % 3 == 0) {
          s.deleteRange(KeyRange.single(b("k" + k)), CI);
        }
      }
    }
  }

  @Test
  void close_pendingCompaction_completesExceptionally(@TempDir Path dir) {
    ManualExecutor ex = new ManualExecutor();
    try (Backend backend = Backend.open(dir)) {
      KvStore s = KvStore.open(backend, KvStoreConfig.DEFAULT, ex);
      s.put(b("a"), b("1"), 0, CI);
      s.put(b("a"), b("2"), 0, CI);
      CompletableFuture<Void> done = s.compact(3, CI);
      s.close();
      ex.runAll();
      assertThatThrownBy(() -> done.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(StoreClosedException.class);
    }
  }

  @Test
  void compact_ownCompactorThread_finishesPhysically(@TempDir Path dir) throws Exception {
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend)) {
      for (int i = 0; i < 50; i++) {
        s.put(b("k"), b("v" + i), 0, CI);
      }
      s.compact(51, CI).get(30, TimeUnit.SECONDS);
      assertThat(storedRevisions(backend)).containsExactly("51_0");
    }
  }
}
