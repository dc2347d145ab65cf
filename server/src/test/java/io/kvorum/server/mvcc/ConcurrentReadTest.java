package io.kvorum.server.mvcc;

import static io.kvorum.server.mvcc.KvStoreTest.b;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** etcd 3.4's "fully concurrent reads": a long read never holds up the writer. */
class ConcurrentReadTest {
  private static final int KEYS = 2000;
  private static final long WAIT_SECONDS = 60;

  private static ByteString key(int i) {
    return b(String.format("k%05d", i));
  }

  @Test
  @Timeout(120)
  void forEach_readerParkedMidIteration_writesAndCompactionCompleteAndReaderSeesItsRevision(
      @TempDir Path dir) throws Exception {
    ExecutorService readerThread = Executors.newSingleThreadExecutor();
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend)) {
      ConsistentIndex ci = ConsistentIndex.ZERO;
      for (int i = 0; i < KEYS; i++) {
        s.put(key(i), b("old" + i), 0, ci);
      }
      long readRev = s.currentRevision();

      CountDownLatch parked = new CountDownLatch(1);
      CountDownLatch resume = new CountDownLatch(1);
      AtomicBoolean readerFinished = new AtomicBoolean();
      Future<List<KeyValue>> reader =
          readerThread.submit(
              () -> {
                List<KeyValue> seen = new ArrayList<>();
                try (ReadTxn txn = s.read()) {
                  txn.forEach(
                      KeyRange.atLeast(ByteString.EMPTY),
                      RangeOptions.DEFAULT,
                      kv -> {
                        seen.add(kv);
                        if (seen.size() == KEYS / 2) {
                          parked.countDown();
                          try {
                            resume.await(WAIT_SECONDS, TimeUnit.SECONDS);
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return false;
                          }
                        }
                        return true;
                      });
                }
                readerFinished.set(true);
                return seen;
              });
      assertThat(parked.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

      // The writer rewrites every key, deletes some, creates others and compacts up to the
      // reader's revision, physically too, all while the reader sits in the middle of its range.
      for (int i = 0; i < KEYS; i++) {
        s.put(key(i), b("new" + i), 0, ci);
      }
      s.deleteRange(KeyRange.between(key(0), key(100)), ci);
      for (int i = KEYS; i < KEYS + 100; i++) {
        s.put(key(i), b("added"), 0, ci);
      }
      s.compact(readRev, ci).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(s.currentRevision()).isEqualTo(readRev + KEYS + 1 + 100);
      assertThat(readerFinished).as("reader still parked while all writes completed").isFalse();

      resume.countDown();
      List<KeyValue> seen = reader.get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(seen).hasSize(KEYS);
      for (int i = 0; i < KEYS; i++) {
        KeyValue kv = seen.get(i);
        assertThat(kv.getKey()).isEqualTo(key(i));
        assertThat(kv.getValue()).isEqualTo(b("old" + i));
        assertThat(kv.getModRevision()).isEqualTo(i + 2L).isLessThanOrEqualTo(readRev);
      }
    } finally {
      readerThread.shutdownNow();
    }
  }

  /**
   * Readers racing a writer whose every transaction rewrites a whole group of keys to one value:
   * any range must see the group with a single value and mod revision (all of one transaction).
   */
  @Test
  @Timeout(120)
  void range_whileWriterCommitsGroups_alwaysSeesWholeTransactions(@TempDir Path dir)
      throws Exception {
    int groupKeys = 50;
    int writes = 300;
    int readers = 3;
    int readsPerReaderMax = 100_000;
    ExecutorService pool = Executors.newFixedThreadPool(readers);
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend)) {
      writeGroup(s, 0, groupKeys);
      AtomicBoolean writerDone = new AtomicBoolean();
      CountDownLatch started = new CountDownLatch(readers);
      List<Future<Integer>> results = new ArrayList<>();
      for (int r = 0; r < readers; r++) {
        results.add(
            pool.submit(
                () -> {
                  started.countDown();
                  Set<Long> revisions = new HashSet<>();
                  int reads = 0;
                  while (!writerDone.get() && reads < readsPerReaderMax) {
                    RangeResult rr;
                    try {
                      rr = s.range(KeyRange.prefix(b("g/")), RangeOptions.DEFAULT);
                    } catch (CompactedException e) {
                      // The writer compacted past this read's revision between its open and its
                      // index walk: etcd's answer too. Read again.
                      reads++;
                      continue;
                    }
                    assertThat(rr.kvs()).hasSize(groupKeys);
                    KeyValue first = rr.kvs().get(0);
                    for (KeyValue kv : rr.kvs()) {
                      assertThat(kv.getValue()).isEqualTo(first.getValue());
                      assertThat(kv.getModRevision()).isEqualTo(first.getModRevision());
                    }
                    assertThat(first.getModRevision()).isLessThanOrEqualTo(rr.revision());
                    revisions.add(first.getModRevision());
                    reads++;
                  }
                  return revisions.size();
                }));
      }
      assertThat(started.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
      for (int w = 1; w <= writes; w++) {
        writeGroup(s, w, groupKeys);
        if (w % 100 == 0) {
          s.compact(s.currentRevision() - 50, ConsistentIndex.ZERO);
        }
      }
      writerDone.set(true);
      for (Future<Integer> f : results) {
        assertThat(f.get(WAIT_SECONDS, TimeUnit.SECONDS)).isPositive();
      }
      assertThat(s.currentRevision()).isEqualTo(2 + writes);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void writeGroup(KvStore s, int round, int groupKeys) {
    try (WriteTxn txn = s.write(ConsistentIndex.ZERO)) {
      for (int i = 0; i < groupKeys; i++) {
        txn.put(b("g/" + i), b("round" + round), 0);
      }
      txn.end();
    }
  }
}
