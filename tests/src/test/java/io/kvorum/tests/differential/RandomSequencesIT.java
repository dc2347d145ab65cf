package io.kvorum.tests.differential;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.Compare.CompareResult;
import io.kvorum.proto.etcdserverpb.Compare.CompareTarget;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest.SortOrder;
import io.kvorum.proto.etcdserverpb.RangeRequest.SortTarget;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Random sequences of puts, delete-ranges, transactions, ranges at past revisions, compactions and
 * lease requests, each played against etcd 3.4.23 and Kvorum and compared exchange by exchange
 * like a catalogue scenario, then closed with a HashKV of the current revision on both sides.
 *
 * <p>Why the ops hold only relative values: both sides must get byte-identical requests, and a
 * try that jqwik re-runs while shrinking must not meet the keys or leases of an earlier try. So
 * keys are names under a prefix unique to the try, revisions are offsets from the revision the try
 * started at (read from each side; equal, since every try starts from aligned sides), and lease ids
 * are slots added to a base unique to the try. Slots {@code L0}..{@code L2} may be granted; {@code
 * L3} never is. Leases live for an hour, so none expires during a run and no answer depends on time.
 *
 * <p>A failing try fails with the side-by-side report of the first differing exchange; jqwik then
 * shrinks the op list (bounded in time: a try that made the sides diverge costs the next one a
 * fresh pair, see {@code junit-platform.properties}) and prints it with the seed. {@code
 * -Drandom.sequences.seed=...} replays a seed, {@code -Drandom.sequences.tries=...} runs longer.
 */
class RandomSequencesIT {
  /** Tries per run: about half a minute against both servers when nothing differs. */
  static final int TRIES = 1000;
  static final int OPS_MIN = 5;
  static final int OPS_MAX = 30;
  /** Guards of one transaction, and operations of one branch. */
  static final int TXN_COMPARES_MAX = 3;
  static final int TXN_BRANCH_OPS_MAX = 3;
  /** The system property that fixes jqwik's seed (a random seed when absent). */
  static final String SEED_PROPERTY = "random.sequences.seed";
  /** The system property that replaces {@link #TRIES} (for a longer soak). */
  static final String TRIES_PROPERTY = "random.sequences.tries";
  /** Long enough that no lease expires during a run. */
  static final long LEASE_TTL_SECONDS = 3600;
  /** Lease ids per try: slots 0 to {@link #UNGRANTED_SLOT}. */
  static final int LEASE_SLOTS = 4;
  /** The slot no op grants: a lease id neither side knows. */
  static final int UNGRANTED_SLOT = LEASE_SLOTS - 1;
  /** A put without a lease. */
  static final int NO_LEASE = -1;
  /** The first try's first lease id; ids the tries choose are rendered as they are, so both sides must send the same. */
  static final long LEASE_ID_BASE = 0x5eed_0000_0000L;
  /**
   * Put before every try, outside every try's prefix, so some key is always live. etcd hashes
   * revisions a compaction has not yet removed when no key at all is live (HashByRev skips
   * compacted revisions only with a non-empty keep set), and that depends on its compaction timing.
   */
  static final String ANCHOR_KEY = "random-sequences-anchor";

  private static final AtomicInteger TRY = new AtomicInteger();
  /**
   * Held by a try while it runs. When shrinking reaches its time bound, jqwik reports the best
   * sample so far but leaves the shrinking thread running; without this lock that thread could
   * start a fresh pair after the servers were stopped and leave the processes behind.
   */
  private static final ReentrantLock RUNNING = new ReentrantLock();
  /** Set once the servers are stopped: a try still coming from the shrinking thread is refused. */
  private static boolean stopped;

  @BeforeContainer
  static void etcdInstalled() throws Exception {
    Side.checkEtcd();
  }

  @AfterContainer
  static void stopServers() {
    RUNNING.lock();
    try {
      stopped = true;
      Pair.closeAll();
    } finally {
      RUNNING.unlock();
    }
  }

  @Property(tries = TRIES, shrinking = ShrinkingMode.BOUNDED)
  @AddLifecycleHook(SystemPropertyAttributes.class)
  void sequence_sameOnEtcdAndKvorum(@ForAll("sequences") List<Op> ops) throws Exception {
    compare(ops);
  }

  /** Plays {@code ops} on both sides of the shared single-member pair and fails at the first difference. */
  static void compare(List<Op> ops) throws Exception {
    RUNNING.lock();
    try {
      if (stopped) {
        throw new IllegalStateException("servers stopped: a try after the run (shrinking past its time bound)");
      }
      Pair pair = Pair.of(Topology.SINGLE);
      pair.align();
      int n = TRY.incrementAndGet();
      String prefix = "random-sequences/" + n + "/";
      long leaseBase = LEASE_ID_BASE + (long) n * LEASE_SLOTS;
      Recorder etcd = play(pair.etcd, prefix, leaseBase, ops);
      Recorder kvorum = play(pair.kvorum, prefix, leaseBase, ops);
      Comparison.assertSame("random sequence (try " + n + ")", Comparison.render(etcd), Comparison.render(kvorum));
    } finally {
      RUNNING.unlock();
    }
  }

  private static Recorder play(Side side, String prefix, long leaseBase, List<Op> ops) {
    Recorder c = new Recorder(side, prefix);
    try {
      Run run = new Run(c, c.revision(), leaseBase);
      c.call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(Recorder.bytes(ANCHOR_KEY)).build());
      for (Op op : ops) {
        op.apply(run);
      }
      c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.newBuilder().setRevision(0).build());
    } catch (RuntimeException | AssertionError e) {
      c.note("sequence stopped: " + e);
    }
    return c;
  }

  /**
   * Takes jqwik's seed from {@link #SEED_PROPERTY} when it is set, so a reported failure replays,
   * and the number of tries from {@link #TRIES_PROPERTY}.
   */
  static final class SystemPropertyAttributes implements AroundPropertyHook {
    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
      String seed = System.getProperty(SEED_PROPERTY, "").strip();
      if (!seed.isEmpty()) {
        context.attributes().setSeed(seed);
      }
      String tries = System.getProperty(TRIES_PROPERTY, "").strip();
      if (!tries.isEmpty()) {
        context.attributes().setTries(Integer.parseInt(tries));
      }
      return property.execute();
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Operations

  /** One side's view of one try: its recorder, the revision the try started at, the try's first lease id. */
  record Run(Recorder c, long start, long leaseBase) {
    long revision(int offset) {
      return start + offset;
    }

    long lease(int slot) {
      return slot == NO_LEASE ? 0 : leaseBase + slot;
    }
  }

  /** One request of a sequence, recorded on the side it is applied to. */
  sealed interface Op permits Put, Delete, Range, Txn, Compact, Grant, Revoke, TimeToLive {
    void apply(Run r);
  }

  /** The ops that may also run inside a transaction. */
  sealed interface TxnOp permits Put, Delete, Range {
    RequestOp request(Run r);
  }

  /** A key ({@code end} null) or the keys in [key, end), names under the try's prefix. */
  record Keys(String key, String end) {
    ByteString from(Run r) {
      return r.c().key(key);
    }

    boolean single() {
      return end == null;
    }

    ByteString to(Run r) {
      return r.c().key(end);
    }

    @Override
    public String toString() {
      return single() ? key : "[" + key + "," + end + ")";
    }
  }

  record Put(String key, String value, int lease, boolean prevKv, boolean ignoreValue, boolean ignoreLease)
      implements Op, TxnOp {
    PutRequest build(Run r) {
      return PutRequest.newBuilder().setKey(r.c().key(key)).setValue(Recorder.bytes(value)).setLease(r.lease(lease))
          .setPrevKv(prevKv).setIgnoreValue(ignoreValue).setIgnoreLease(ignoreLease).build();
    }

    @Override
    public void apply(Run r) {
      r.c().call(KVGrpc.getPutMethod(), build(r));
    }

    @Override
    public RequestOp request(Run r) {
      return RequestOp.newBuilder().setRequestPut(build(r)).build();
    }

    @Override
    public String toString() {
      return "put " + key + "=\"" + value + "\"" + (lease == NO_LEASE ? "" : " lease=" + slotName(lease))
          + (prevKv ? " prev_kv" : "") + (ignoreValue ? " ignore_value" : "") + (ignoreLease ? " ignore_lease" : "");
    }
  }

  record Delete(Keys keys, boolean prevKv) implements Op, TxnOp {
    DeleteRangeRequest build(Run r) {
      DeleteRangeRequest.Builder b = DeleteRangeRequest.newBuilder().setKey(keys.from(r)).setPrevKv(prevKv);
      if (!keys.single()) {
        b.setRangeEnd(keys.to(r));
      }
      return b.build();
    }

    @Override
    public void apply(Run r) {
      r.c().call(KVGrpc.getDeleteRangeMethod(), build(r));
    }

    @Override
    public RequestOp request(Run r) {
      return RequestOp.newBuilder().setRequestDeleteRange(build(r)).build();
    }

    @Override
    public String toString() {
      return "delete " + keys + (prevKv ? " prev_kv" : "");
    }
  }

  /** Which revision filter a range sets, if any; its revision is an offset from the try's start. */
  enum Filter {
    NONE, MIN_MOD, MAX_MOD, MIN_CREATE, MAX_CREATE
  }

  /** How a range reads: everything but the keys and the revision. */
  record Shape(long limit, SortOrder order, SortTarget target, boolean keysOnly, boolean countOnly, Filter filter,
      int filterOffset) {
    void applyTo(RangeRequest.Builder b, Run r) {
      b.setLimit(limit).setSortOrder(order).setSortTarget(target).setKeysOnly(keysOnly).setCountOnly(countOnly);
      long rev = r.revision(filterOffset);
      switch (filter) {
        case NONE -> { }
        case MIN_MOD -> b.setMinModRevision(rev);
        case MAX_MOD -> b.setMaxModRevision(rev);
        case MIN_CREATE -> b.setMinCreateRevision(rev);
        case MAX_CREATE -> b.setMaxCreateRevision(rev);
      }
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      if (limit != 0) {
        sb.append(" limit=").append(limit);
      }
      if (order != SortOrder.NONE || target != SortTarget.KEY) {
        sb.append(" sort=").append(order).append('/').append(target);
      }
      sb.append(keysOnly ? " keys_only" : "").append(countOnly ? " count_only" : "");
      if (filter != Filter.NONE) {
        sb.append(' ').append(filter.name().toLowerCase()).append('=').append(rev(filterOffset));
      }
      return sb.toString();
    }
  }

  /** A range at the current revision ({@code at} null) or at the try's start plus {@code at}. */
  record Range(Keys keys, Integer at, Shape shape) implements Op, TxnOp {
    RangeRequest build(Run r) {
      RangeRequest.Builder b = RangeRequest.newBuilder().setKey(keys.from(r));
      if (!keys.single()) {
        b.setRangeEnd(keys.to(r));
      }
      if (at != null) {
        b.setRevision(r.revision(at));
      }
      shape.applyTo(b, r);
      return b.build();
    }

    @Override
    public void apply(Run r) {
      r.c().call(KVGrpc.getRangeMethod(), build(r));
    }

    @Override
    public RequestOp request(Run r) {
      return RequestOp.newBuilder().setRequestRange(build(r)).build();
    }

    @Override
    public String toString() {
      return "range " + keys + (at == null ? "" : " @" + rev(at)) + shape;
    }
  }

  /**
   * One guard of a transaction. The operand is {@code value} for VALUE and {@code number} otherwise:
   * a version, an offset from the try's start (CREATE, MOD) or a lease slot (LEASE).
   */
  record Cmp(Keys keys, CompareTarget target, CompareResult result, int number, String value) {
    Compare build(Run r) {
      Compare.Builder b = Compare.newBuilder().setKey(keys.from(r)).setTarget(target).setResult(result);
      if (!keys.single()) {
        b.setRangeEnd(keys.to(r));
      }
      switch (target) {
        case VERSION -> b.setVersion(number);
        case CREATE -> b.setCreateRevision(r.revision(number));
        case MOD -> b.setModRevision(r.revision(number));
        case VALUE -> b.setValue(Recorder.bytes(value));
        case LEASE -> b.setLease(r.lease(number));
        case UNRECOGNIZED -> throw new IllegalStateException("no compare target " + target);
      }
      return b.build();
    }

    @Override
    public String toString() {
      String operand = switch (target) {
        case VERSION -> Integer.toString(number);
        case CREATE, MOD -> rev(number);
        case VALUE -> "\"" + value + "\"";
        case LEASE -> slotName(number);
        case UNRECOGNIZED -> "?";
      };
      String relation = switch (result) {
        case EQUAL -> "=";
        case GREATER -> ">";
        case LESS -> "<";
        case NOT_EQUAL -> "!=";
        case UNRECOGNIZED -> "?";
      };
      return target.name().toLowerCase() + "(" + keys + ") " + relation + " " + operand;
    }
  }

  record Txn(List<Cmp> compares, List<TxnOp> success, List<TxnOp> failure) implements Op {
    @Override
    public void apply(Run r) {
      TxnRequest.Builder b = TxnRequest.newBuilder();
      compares.forEach(c -> b.addCompare(c.build(r)));
      success.forEach(o -> b.addSuccess(o.request(r)));
      failure.forEach(o -> b.addFailure(o.request(r)));
      r.c().call(KVGrpc.getTxnMethod(), b.build());
    }

    @Override
    public String toString() {
      return "txn if " + compares + " then " + success + " else " + failure;
    }
  }

  /** A compaction at the try's start plus {@code offset}. */
  record Compact(int offset, boolean physical) implements Op {
    @Override
    public void apply(Run r) {
      r.c().call(KVGrpc.getCompactMethod(),
          CompactionRequest.newBuilder().setRevision(r.revision(offset)).setPhysical(physical).build());
    }

    @Override
    public String toString() {
      return "compact " + rev(offset) + (physical ? " physical" : "");
    }
  }

  record Grant(int slot) implements Op {
    @Override
    public void apply(Run r) {
      r.c().call(LeaseGrpc.getLeaseGrantMethod(),
          LeaseGrantRequest.newBuilder().setID(r.lease(slot)).setTTL(LEASE_TTL_SECONDS).build());
    }

    @Override
    public String toString() {
      return "grant " + slotName(slot);
    }
  }

  record Revoke(int slot) implements Op {
    @Override
    public void apply(Run r) {
      r.c().call(LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(r.lease(slot)).build());
    }

    @Override
    public String toString() {
      return "revoke " + slotName(slot);
    }
  }

  record TimeToLive(int slot, boolean keys) implements Op {
    @Override
    public void apply(Run r) {
      r.c().call(LeaseGrpc.getLeaseTimeToLiveMethod(),
          LeaseTimeToLiveRequest.newBuilder().setID(r.lease(slot)).setKeys(keys).build());
    }

    @Override
    public String toString() {
      return "ttl " + slotName(slot) + (keys ? " keys" : "");
    }
  }

  static String rev(int offset) {
    return "start" + (offset < 0 ? "" : "+") + offset;
  }

  static String slotName(int slot) {
    if (slot == NO_LEASE) {
      return "none";
    }
    return "L" + slot + (slot == UNGRANTED_SLOT ? "(never granted)" : "");
  }

  // -----------------------------------------------------------------------------------------------
  // Generators

  @Provide
  Arbitrary<List<Op>> sequences() {
    List<Tuple2<Integer, Arbitrary<Op>>> choices = List.of(
            weighted(6, puts()),
            weighted(2, deletes()),
            weighted(3, txns()),
            weighted(4, ranges()),
            weighted(1, compactions()),
            weighted(2, Arbitraries.integers().between(0, UNGRANTED_SLOT - 1).map(Grant::new)),
            weighted(1, leaseSlots().map(Revoke::new)),
            weighted(1, Combinators.combine(leaseSlots(), Arbitraries.of(true, false)).as(TimeToLive::new)));
    return Arbitraries.frequencyOf(choices).list().ofMinSize(OPS_MIN).ofMaxSize(OPS_MAX);
  }

  private static <T> Tuple2<Integer, Arbitrary<T>> weighted(int weight, Arbitrary<? extends T> a) {
    Arbitrary<T> widened = a.map(x -> x);
    return Tuple.of(weight, widened);
  }

  static Arbitrary<String> names() {
    return Arbitraries.chars().range('a', 'f').map(String::valueOf);
  }

  static Arbitrary<String> values() {
    return Arbitraries.strings().withChars("xyz").ofMaxLength(2);
  }

  /** A single key half the time, else [k1, k2) with k2 up to g, so the range may be empty or cover a..f. */
  static Arbitrary<Keys> keys() {
    Arbitrary<String> ends = Arbitraries.chars().range('a', 'g').map(String::valueOf).injectNull(0.5);
    return Combinators.combine(names(), ends).as(Keys::new);
  }

  static Arbitrary<Integer> leaseSlots() {
    return Arbitraries.integers().between(0, UNGRANTED_SLOT);
  }

  static Arbitrary<Boolean> sometimes(int oneIn) {
    return Arbitraries.integers().between(1, oneIn).map(i -> i == oneIn);
  }

  static Arbitrary<Put> puts() {
    Arbitrary<Integer> lease = Arbitraries.frequencyOf(List.of(
        weighted(6, Arbitraries.just(NO_LEASE)),
        weighted(3, Arbitraries.integers().between(0, UNGRANTED_SLOT - 1)),
        weighted(1, Arbitraries.just(UNGRANTED_SLOT))));
    return Combinators.combine(names(), values(), lease, sometimes(3), sometimes(12), sometimes(12)).as(Put::new);
  }

  static Arbitrary<Delete> deletes() {
    return Combinators.combine(keys(), sometimes(3)).as(Delete::new);
  }

  static Arbitrary<Range> ranges() {
    // Past the try's start, before it (keys of this try did not exist), and beyond the current revision.
    Arbitrary<Integer> at = Arbitraries.integers().between(-3, 30).injectNull(0.4);
    Arbitrary<SortOrder> orders = Arbitraries.frequencyOf(List.of(
        weighted(4, Arbitraries.just(SortOrder.NONE)),
        weighted(1, Arbitraries.just(SortOrder.ASCEND)),
        weighted(1, Arbitraries.just(SortOrder.DESCEND))));
    Arbitrary<SortTarget> targets = Arbitraries.frequencyOf(List.of(
        weighted(4, Arbitraries.just(SortTarget.KEY)),
        weighted(3, Arbitraries.of(SortTarget.VERSION, SortTarget.CREATE, SortTarget.MOD, SortTarget.VALUE))));
    Arbitrary<Filter> filters = Arbitraries.frequencyOf(List.of(
        weighted(4, Arbitraries.just(Filter.NONE)),
        weighted(1, Arbitraries.of(Filter.MIN_MOD, Filter.MAX_MOD, Filter.MIN_CREATE, Filter.MAX_CREATE))));
    Arbitrary<Shape> shapes = Combinators.combine(Arbitraries.of(0L, 0L, 0L, 1L, 2L, 3L), orders, targets,
        sometimes(4), sometimes(6), filters, Arbitraries.integers().between(0, 20)).as(Shape::new);
    return Combinators.combine(keys(), at, shapes).as(Range::new);
  }

  static Arbitrary<Cmp> compares() {
    Arbitrary<CompareResult> results =
        Arbitraries.of(CompareResult.EQUAL, CompareResult.GREATER, CompareResult.LESS, CompareResult.NOT_EQUAL);
    Arbitrary<CompareTarget> targets = Arbitraries.of(CompareTarget.VERSION, CompareTarget.CREATE, CompareTarget.MOD,
        CompareTarget.VALUE, CompareTarget.LEASE);
    return targets.flatMap(t -> {
      Arbitrary<Integer> numbers = switch (t) {
        case VERSION -> Arbitraries.integers().between(0, 3);
        case CREATE, MOD -> Arbitraries.integers().between(-1, 20);
        case LEASE -> Arbitraries.integers().between(NO_LEASE, UNGRANTED_SLOT);
        case VALUE, UNRECOGNIZED -> Arbitraries.just(0);
      };
      Arbitrary<String> value = t == CompareTarget.VALUE ? values() : Arbitraries.just("");
      return Combinators.combine(keys(), results, numbers, value).as((k, res, num, v) -> new Cmp(k, t, res, num, v));
    });
  }

  static Arbitrary<TxnOp> txnOps() {
    List<Tuple2<Integer, Arbitrary<TxnOp>>> choices =
        List.of(weighted(3, puts()), weighted(1, deletes()), weighted(2, ranges()));
    return Arbitraries.frequencyOf(choices);
  }

  static Arbitrary<Txn> txns() {
    return Combinators.combine(compares().list().ofMinSize(1).ofMaxSize(TXN_COMPARES_MAX),
        txnOps().list().ofMaxSize(TXN_BRANCH_OPS_MAX), txnOps().list().ofMaxSize(TXN_BRANCH_OPS_MAX)).as(Txn::new);
  }

  static Arbitrary<Compact> compactions() {
    // Before the start (often already compacted by an earlier try), within the try, or in its future.
    return Combinators.combine(Arbitraries.integers().between(-3, 12), sometimes(3)).as(Compact::new);
  }
}
