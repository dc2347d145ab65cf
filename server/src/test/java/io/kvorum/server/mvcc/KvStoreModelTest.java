package io.kvorum.server.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random histories of puts, delete-ranges, multi-operation transactions, compactions (logical, and
 * physical batch by batch), ranges at past revisions and restarts, checked step by step against a
 * plain model of etcd's semantics that remembers the whole key space at every revision.
 *
 * <p>jqwik has no {@code @TempDir}; each try gets a fresh directory under one temporary directory
 * per test class, removed afterwards.
 */
class KvStoreModelTest {
  private static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();
  private static final List<String> KEYS = List.of("a", "aa", "ab", "b", "c", "d", "\u00ff");
  /** Revisions examined per physical compaction batch: tiny, so restarts land mid-compaction. */
  private static final int COMPACTION_BATCH_REVISIONS = 3;

  private static Path root;
  private static final AtomicInteger TRY = new AtomicInteger();

  @BeforeContainer
  static void createRoot() throws IOException {
    root = Files.createTempDirectory("kvorum-mvcc-model");
  }

  @AfterContainer
  static void deleteRoot() throws IOException {
    deleteTree(root);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Operations

  sealed interface Op permits Put, Delete, Txn, Compact, CompactStep, RangeAt, Reopen, Hash {}

  record Put(String key, String value, long lease) implements Op {}

  record Delete(Range range) implements Op {}

  /** Several puts and deletes sharing one revision. */
  record Txn(List<Op> ops) implements Op {}

  /** Compact at the current revision plus {@code delta} (may be in the future or compacted). */
  record Compact(int delta) implements Op {}

  /** Run one batch of physical compaction, if one is pending. */
  record CompactStep() implements Op {}

  /** Range at the current revision plus {@code delta} (0: current, may be invalid). */
  record RangeAt(Range range, int delta, long limit, boolean countOnly, boolean keysOnly)
      implements Op {}

  /** Close the store and backend and open them again. */
  record Reopen() implements Op {}

  /** Hash up to the current revision plus {@code delta}; check it is stable over time. */
  record Hash(int delta) implements Op {}

  /** A key range as the test describes it. */
  record Range(String key, String end, int kind) {
    static final int SINGLE = 0;
    static final int BETWEEN = 1;
    static final int PREFIX = 2;

    KeyRange toKeyRange() {
      return switch (kind) {
        case SINGLE -> KeyRange.single(b(key));
        case BETWEEN -> KeyRange.between(b(key), b(end));
        default -> KeyRange.prefix(b(key));
      };
    }
  }

  static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Provide
  Arbitrary<List<Op>> histories() {
    Arbitrary<String> keys = Arbitraries.of(KEYS);
    Arbitrary<Range> ranges =
        Combinators.combine(keys, keys, Arbitraries.integers().between(0, 2)).as(Range::new);
    Arbitrary<Op> put =
        Combinators.combine(keys, Arbitraries.of("1", "2", "3", ""), Arbitraries.of(0L, 0L, 7L, 9L))
            .as(Put::new);
    Arbitrary<Op> delete = ranges.map(Delete::new);
    Arbitrary<Op> txn =
        Arbitraries.frequencyOf(Tuple.of(3, put), Tuple.of(1, delete))
            .list()
            .ofMinSize(1)
            .ofMaxSize(5)
            .map(Txn::new);
    Arbitrary<Op> compact = Arbitraries.integers().between(-7, 1).map(Compact::new);
    Arbitrary<Op> step = Arbitraries.just(new CompactStep());
    Arbitrary<Op> range =
        Combinators.combine(
                ranges,
                Arbitraries.integers().between(-9, 1),
                Arbitraries.longs().between(0, 3),
                Arbitraries.of(false, false, false, true),
                Arbitraries.of(false, false, true))
            .as(RangeAt::new);
    Arbitrary<Op> reopen = Arbitraries.just(new Reopen());
    Arbitrary<Op> hash = Arbitraries.integers().between(-5, 0).map(Hash::new);
    return Arbitraries.frequencyOf(
            Tuple.of(10, put),
            Tuple.of(3, delete),
            Tuple.of(4, txn),
            Tuple.of(2, compact),
            Tuple.of(3, step),
            Tuple.of(8, range),
            Tuple.of(1, reopen),
            Tuple.of(2, hash))
        .list()
        .ofMinSize(1)
        .ofMaxSize(60);
  }

  // -----------------------------------------------------------------------------------------------
  // The model

  /** etcd semantics, kept naively: the whole key space at every revision. */
  static final class Model {
    /** states.get(r) is the key space at revision r; revision 0 is unused. */
    final List<TreeMap<ByteString, KeyValue>> states = new ArrayList<>();
    long compacted = -1;

    Model() {
      states.add(new TreeMap<>(ORDER));
      states.add(new TreeMap<>(ORDER));
    }

    long rev() {
      return states.size() - 1;
    }

    TreeMap<ByteString, KeyValue> current() {
      return states.get((int) rev());
    }

    /** Applies one transaction; returns the store revision afterwards. */
    long apply(List<Op> ops) {
      TreeMap<ByteString, KeyValue> next = new TreeMap<>(current());
      if (applyTo(next, ops, rev() + 1)) {
        states.add(next);
      }
      return rev();
    }

    /** How many keys {@code d} removes after {@code before} ran in the same transaction. */
    long deletedBy(List<Op> before, Delete d) {
      TreeMap<ByteString, KeyValue> scratch = new TreeMap<>(current());
      applyTo(scratch, before, rev() + 1);
      KeyRange r = d.range().toKeyRange();
      return scratch.keySet().stream().filter(r::contains).count();
    }

    /** Applies {@code ops} at {@code newRev} to {@code state}; returns true if anything changed. */
    static boolean applyTo(TreeMap<ByteString, KeyValue> state, List<Op> ops, long newRev) {
      boolean changed = false;
      for (Op op : ops) {
        if (op instanceof Put p) {
          KeyValue prev = state.get(b(p.key()));
          state.put(
              b(p.key()),
              KeyValue.newBuilder()
                  .setKey(b(p.key()))
                  .setValue(b(p.value()))
                  .setCreateRevision(prev == null ? newRev : prev.getCreateRevision())
                  .setModRevision(newRev)
                  .setVersion(prev == null ? 1 : prev.getVersion() + 1)
                  .setLease(p.lease())
                  .build());
          changed = true;
        } else if (op instanceof Delete d) {
          KeyRange r = d.range().toKeyRange();
          changed |= state.keySet().removeIf(r::contains);
        }
      }
      return changed;
    }

    Map<ByteString, Long> leases() {
      Map<ByteString, Long> out = new HashMap<>();
      current().forEach((k, kv) -> {
        if (kv.getLease() != 0) {
          out.put(k, kv.getLease());
        }
      });
      return out;
    }
  }

  // -----------------------------------------------------------------------------------------------
  // The property

  private static final ConsistentIndex CI = ConsistentIndex.ZERO;

  private Path dir;
  private Backend backend;
  private ManualExecutor compactor;
  private KvStore store;

  private void open() {
    backend = Backend.open(dir);
    compactor = new ManualExecutor();
    store = KvStore.open(backend, new KvStoreConfig(COMPACTION_BATCH_REVISIONS), compactor);
  }

  private void close() {
    store.close();
    backend.close();
  }

  @Property(tries = 150)
  void store_randomHistory_matchesModel(@ForAll("histories") List<Op> history) throws IOException {
    dir = root.resolve("try-" + TRY.incrementAndGet());
    open();
    try {
      Model model = new Model();
      Map<Long, Long> hashes = new HashMap<>();
      for (Op op : history) {
        step(model, op, hashes);
        assertThat(store.currentRevision()).as("revision after %s", op).isEqualTo(model.rev());
        assertThat(store.compactRevision()).as("compaction after %s", op).isEqualTo(model.compacted);
      }
      compactor.runAll();
      assertThat(store.physicalCompactionDone()).isDone();
      checkRange(model, new RangeAt(new Range("", "", Range.PREFIX), 0, 0, false, false));
      reopenAndCheck(model);
    } finally {
      close();
      deleteTree(dir);
    }
  }

  private void step(Model model, Op op, Map<Long, Long> hashes) {
    if (op instanceof Put p) {
      long rev = store.put(b(p.key()), b(p.value()), p.lease(), CI);
      assertThat(rev).isEqualTo(model.apply(List.of(p)));
    } else if (op instanceof Delete d) {
      long n = model.deletedBy(List.of(), d);
      DeleteResult r = store.deleteRange(d.range().toKeyRange(), CI);
      assertThat(r).isEqualTo(new DeleteResult(n, model.apply(List.of(d))));
    } else if (op instanceof Txn t) {
      long next = model.rev() + 1;
      try (WriteTxn txn = store.write(CI)) {
        for (int i = 0; i < t.ops().size(); i++) {
          Op o = t.ops().get(i);
          if (o instanceof Put p) {
            assertThat(txn.put(b(p.key()), b(p.value()), p.lease())).isEqualTo(next);
          } else if (o instanceof Delete d) {
            long n = model.deletedBy(t.ops().subList(0, i), d);
            assertThat(txn.deleteRange(d.range().toKeyRange()).deleted()).isEqualTo(n);
          }
        }
        assertThat(txn.end()).isEqualTo(model.apply(t.ops()));
      }
    } else if (op instanceof Compact c) {
      long rev = model.rev() + c.delta();
      if (rev <= model.compacted) {
        assertThatThrownBy(() -> store.compact(rev, CI)).isInstanceOf(CompactedException.class);
      } else if (rev > model.rev()) {
        assertThatThrownBy(() -> store.compact(rev, CI))
            .isInstanceOf(FutureRevisionException.class);
      } else {
        store.compact(rev, CI);
        model.compacted = rev;
        // A compaction moves the base every hash starts from.
        hashes.clear();
      }
    } else if (op instanceof CompactStep) {
      compactor.runOne();
      // With nothing to keep, etcd hashes whatever old revisions are still stored.
      hashes.clear();
    } else if (op instanceof RangeAt r) {
      checkRange(model, r);
    } else if (op instanceof Reopen) {
      reopenAndCheck(model);
    } else if (op instanceof Hash h) {
      checkHash(model, h, hashes);
    }
  }

  private void checkHash(Model model, Hash h, Map<Long, Long> hashes) {
    long rev = model.rev() + h.delta();
    if (rev <= 0) {
      return;
    }
    if (rev <= model.compacted) {
      assertThatThrownBy(() -> store.hashKv(rev)).isInstanceOf(CompactedException.class);
      return;
    }
    HashKv got = store.hashKv(rev);
    assertThat(got.revision()).isEqualTo(model.rev());
    assertThat(got.compactRevision()).isEqualTo(model.compacted);
    // Later writes do not change the hash of a revision.
    Long earlier = hashes.putIfAbsent(rev, got.hash());
    if (earlier != null) {
      assertThat(got.hash()).as("hash of %d", rev).isEqualTo(earlier);
    }
  }

  private void checkRange(Model model, RangeAt r) {
    long rev = r.delta() == 0 ? 0 : model.rev() + r.delta();
    RangeOptions options = new RangeOptions(r.limit(), rev, r.countOnly(), r.keysOnly());
    KeyRange range = r.range().toKeyRange();
    if (rev > model.rev()) {
      assertThatThrownBy(() -> store.range(range, options))
          .isInstanceOf(FutureRevisionException.class);
      return;
    }
    long at = rev <= 0 ? model.rev() : rev;
    if (at < model.compacted) {
      assertThatThrownBy(() -> store.range(range, options)).isInstanceOf(CompactedException.class);
      return;
    }
    List<KeyValue> all =
        model.states.get((int) at).values().stream().filter(kv -> range.contains(kv.getKey()))
            .toList();
    List<KeyValue> expected = new ArrayList<>();
    if (!r.countOnly()) {
      for (KeyValue kv : all) {
        if (r.limit() > 0 && expected.size() == r.limit()) {
          break;
        }
        expected.add(r.keysOnly() ? kv.toBuilder().clearValue().build() : kv);
      }
    }
    RangeResult got = store.range(range, options);
    assertThat(got)
        .as("range %s at %d", range, at)
        .isEqualTo(new RangeResult(expected, all.size(), model.rev(),
            !r.countOnly() && expected.size() < all.size()));
  }

  private void reopenAndCheck(Model model) {
    Index before = store.index();
    long hash = store.hashKv(0).hash();
    close();
    open();
    assertThat(store.index().sameAs(before))
        .as("index rebuilt identically:%n%s%nvs%n%s", store.index(), before)
        .isTrue();
    assertThat(store.currentRevision()).isEqualTo(model.rev());
    assertThat(store.compactRevision()).isEqualTo(model.compacted);
    assertThat(store.restoredLeases()).isEqualTo(model.leases());
    assertThat(store.hashKv(0).hash()).isEqualTo(hash);
  }
}
