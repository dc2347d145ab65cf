package io.kvorum.server.apply;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.ResponseOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.mvcc.DeleteResult;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.RangeOptions;
import io.kvorum.server.mvcc.RangeResult;
import io.kvorum.server.mvcc.WriteTxn;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongPredicate;

/**
 * etcd's KV semantics on one MVCC write transaction: Put, DeleteRange, Range and Txn as etcd's
 * {@code applierV3backend} executes them. Responses carry no header; the caller adds it. Errors
 * that depend on the state (a missing lease, a compacted revision) are thrown as
 * {@link io.kvorum.server.errors.EtcdException}, identically on every member.
 */
public final class KvApplier {
  /** Checks that a lease exists when a put attaches a key to it. */
  public interface LeaseLookup {
    boolean exists(long leaseId);
  }

  private final LeaseLookup leases;

  public KvApplier(LeaseLookup leases) {
    this.leases = leases;
  }

  public PutResponse put(WriteTxn txn, PutRequest p) {
    PutResponse.Builder resp = PutResponse.newBuilder();
    ByteString value = p.getValue();
    long lease = p.getLease();
    KeyValue prev = null;
    // etcd checks the lease before the previous key (a txn checks both before, key first).
    if (lease != 0 && !leases.exists(lease)) {
      throw EtcdError.LEASE_NOT_FOUND.exception();
    }
    if (p.getIgnoreValue() || p.getIgnoreLease() || p.getPrevKv()) {
      List<KeyValue> kvs = txn.range(KeyRange.single(p.getKey()), RangeOptions.DEFAULT).kvs();
      if (!kvs.isEmpty()) {
        prev = kvs.get(0);
      }
      if ((p.getIgnoreValue() || p.getIgnoreLease()) && prev == null) {
        throw EtcdError.KEY_NOT_FOUND.exception();
      }
    }
    if (p.getIgnoreValue()) {
      value = prev.getValue();
    }
    if (p.getIgnoreLease()) {
      lease = prev.getLease();
    }
    if (p.getPrevKv() && prev != null) {
      resp.setPrevKv(prev);
    }
    txn.put(p.getKey(), value, lease);
    return resp.build();
  }

  public DeleteRangeResponse deleteRange(WriteTxn txn, DeleteRangeRequest d) {
    DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder();
    KeyRange range = KeyRange.fromRequest(d.getKey(), d.getRangeEnd());
    if (d.getPrevKv()) {
      resp.addAllPrevKvs(txn.range(range, RangeOptions.DEFAULT).kvs());
    }
    DeleteResult r = txn.deleteRange(range);
    return resp.setDeleted(r.deleted()).build();
  }

  /** A range inside a write transaction (sees the transaction's earlier writes). */
  public RangeResponse range(WriteTxn txn, RangeRequest r) {
    return range(r, (range, opts) -> txn.range(range, opts));
  }

  /** How a range is served: by a write transaction, or by a read view for plain reads. */
  public interface RangeSource {
    RangeResult range(KeyRange range, RangeOptions options);
  }

  /** etcd's Range: filters, sort, limit with {@code more}, count, keys-only. */
  public static RangeResponse range(RangeRequest r, RangeSource src) {
    // As etcd, a limit of zero or less means no limit.
    long limit = Math.max(0, r.getLimit());
    boolean filtered = r.getMinModRevision() != 0 || r.getMaxModRevision() != 0
        || r.getMinCreateRevision() != 0 || r.getMaxCreateRevision() != 0;
    if (r.getSortOrder() != RangeRequest.SortOrder.NONE || filtered) {
      // Sorting or filtering needs every key: fetch all, then trim.
      limit = 0;
    }
    // One more than asked, to know whether there are more (a limit that leaves no room is none).
    limit = limit == Long.MAX_VALUE ? 0 : limit + (limit > 0 ? 1 : 0);
    RangeOptions opts = new RangeOptions(limit, r.getRevision(), r.getCountOnly(), false);
    RangeResult rr = src.range(KeyRange.fromRequest(r.getKey(), r.getRangeEnd()), opts);
    List<KeyValue> kvs = new ArrayList<>(rr.kvs());
    if (filtered) {
      kvs.removeIf(kv -> !within(kv.getModRevision(), r.getMinModRevision(), r.getMaxModRevision())
          || !within(kv.getCreateRevision(), r.getMinCreateRevision(), r.getMaxCreateRevision()));
    }
    RangeRequest.SortOrder order = r.getSortOrder();
    if (r.getSortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
      // The store returns keys in ascending order; another target needs an explicit sort.
      order = RangeRequest.SortOrder.ASCEND;
    }
    // An order etcd does not know sorts nothing, as in etcd.
    if (order == RangeRequest.SortOrder.ASCEND || order == RangeRequest.SortOrder.DESCEND) {
      Comparator<KeyValue> c = switch (r.getSortTarget()) {
        case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
        case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
        case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
        case VALUE -> (a, b) -> ByteString.unsignedLexicographicalComparator().compare(a.getValue(), b.getValue());
        default -> (a, b) -> ByteString.unsignedLexicographicalComparator().compare(a.getKey(), b.getKey());
      };
      kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
    RangeResponse.Builder resp = RangeResponse.newBuilder();
    boolean more = false;
    if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
      kvs = kvs.subList(0, (int) r.getLimit());
      more = true;
    }
    resp.setMore(more);
    resp.setCount(rr.count());
    if (!r.getCountOnly()) {
      for (KeyValue kv : kvs) {
        resp.addKvs(r.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
      }
    }
    return resp.build();
  }

  private static boolean within(long v, long min, long max) {
    return (min == 0 || v >= min) && (max == 0 || v <= max);
  }

  /**
   * etcd's Txn. As etcd does, it first decides every compare it will need (its own and those of
   * the nested txns in the branches it takes) on the state before the txn, then checks the ops of
   * those branches against that same state (ignore_value/ignore_lease keys, leases, read
   * revisions) and fails before writing anything; only then are the ops run. So a txn either
   * applies whole or fails with etcd's error, and a nested txn's compares never see the writes of
   * the ops before it.
   *
   * <p>Each nested response carries a header with only the revision, as etcd's: a read's is the
   * revision it read at, a put's the txn's revision, a delete's the txn's revision if anything
   * changed so far; a nested txn's header is empty. The caller sets the outer header.
   */
  public TxnResponse txn(WriteTxn txn, TxnRequest t) {
    List<Boolean> path = new ArrayList<>();
    decide(txn, t, path);
    if (!readOnly(t)) {
      check(t, path, new int[] {0}, op -> checkPut(txn, op));
    }
    check(t, path, new int[] {0}, op -> checkRange(txn, op));
    return run(txn, t, path, new int[] {0}).build();
  }

  /** Appends the outcome of {@code t}'s compares, then of the nested txns of the branch it takes. */
  private static void decide(WriteTxn txn, TxnRequest t, List<Boolean> path) {
    boolean ok = true;
    for (Compare c : t.getCompareList()) {
      if (!compare(txn, c)) {
        ok = false;
        break;
      }
    }
    path.add(ok);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        decide(txn, op.getRequestTxn(), path);
      }
    }
  }

  /** Calls {@code f} on every non-txn op of the branches {@code path} takes, in order. */
  private static void check(TxnRequest t, List<Boolean> path, int[] at, Consumer<RequestOp> f) {
    for (RequestOp op : path.get(at[0]++) ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        check(op.getRequestTxn(), path, at, f);
      } else {
        f.accept(op);
      }
    }
  }

  /** A txn with no put or delete in any branch, at any depth. */
  private static boolean readOnly(TxnRequest t) {
    for (List<RequestOp> ops : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : ops) {
        if (op.hasRequestPut() || op.hasRequestDeleteRange() || (op.hasRequestTxn() && !readOnly(op.getRequestTxn()))) {
          return false;
        }
      }
    }
    return true;
  }

  private void checkPut(WriteTxn txn, RequestOp op) {
    if (!op.hasRequestPut()) {
      return;
    }
    PutRequest p = op.getRequestPut();
    if ((p.getIgnoreValue() || p.getIgnoreLease())
        && txn.range(KeyRange.single(p.getKey()), RangeOptions.DEFAULT).kvs().isEmpty()) {
      throw EtcdError.KEY_NOT_FOUND.exception();
    }
    if (p.getLease() != 0 && !leases.exists(p.getLease())) {
      throw EtcdError.LEASE_NOT_FOUND.exception();
    }
  }

  /** etcd's check of a txn's read revision: 0 is now, past the store is future, below compaction is gone. */
  private static void checkRange(WriteTxn txn, RequestOp op) {
    if (!op.hasRequestRange()) {
      return;
    }
    long rev = op.getRequestRange().getRevision();
    if (rev == 0) {
      return;
    }
    if (rev > txn.revision()) {
      throw EtcdError.FUTURE_REV.exception();
    }
    if (rev < txn.compactRevision()) {
      throw EtcdError.COMPACTED.exception();
    }
  }

  private TxnResponse.Builder run(WriteTxn txn, TxnRequest t, List<Boolean> path, int[] at) {
    boolean ok = path.get(at[0]++);
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(ok);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      ResponseOp.Builder r = ResponseOp.newBuilder();
      switch (op.getRequestCase()) {
        case REQUEST_RANGE -> r.setResponseRange(range(txn, op.getRequestRange()).toBuilder()
            .setHeader(revisionOnly(txn.revision())));
        case REQUEST_PUT -> r.setResponsePut(put(txn, op.getRequestPut()).toBuilder()
            .setHeader(revisionOnly(txn.beginRevision() + 1)));
        case REQUEST_DELETE_RANGE -> r.setResponseDeleteRange(deleteRange(txn, op.getRequestDeleteRange()).toBuilder()
            .setHeader(revisionOnly(txn.revision())));
        case REQUEST_TXN -> r.setResponseTxn(run(txn, op.getRequestTxn(), path, at)
            .setHeader(ResponseHeader.getDefaultInstance()));
        default -> { }
      }
      resp.addResponses(r);
    }
    return resp;
  }

  private static ResponseHeader revisionOnly(long revision) {
    return ResponseHeader.newBuilder().setRevision(revision).build();
  }

  private static boolean compare(WriteTxn txn, Compare c) {
    KeyRange range = KeyRange.fromRequest(c.getKey(), c.getRangeEnd());
    List<KeyValue> kvs = txn.range(range, RangeOptions.DEFAULT).kvs();
    if (kvs.isEmpty()) {
      // A missing key compares as zero version, revisions and lease; it has no value to compare.
      if (c.getTarget() == Compare.CompareTarget.VALUE) {
        return false;
      }
      return compareKv(c, KeyValue.getDefaultInstance());
    }
    for (KeyValue kv : kvs) {
      if (!compareKv(c, kv)) {
        return false;
      }
    }
    return true;
  }

  private static boolean compareKv(Compare c, KeyValue kv) {
    int cmp;
    switch (c.getTarget()) {
      case VALUE -> cmp = ByteString.unsignedLexicographicalComparator().compare(kv.getValue(), c.getValue());
      case CREATE -> cmp = Long.compare(kv.getCreateRevision(), c.getCreateRevision());
      case MOD -> cmp = Long.compare(kv.getModRevision(), c.getModRevision());
      case VERSION -> cmp = Long.compare(kv.getVersion(), c.getVersion());
      case LEASE -> cmp = Long.compare(kv.getLease(), c.getLease());
      default -> {
        return false;
      }
    }
    LongPredicate p = switch (c.getResult()) {
      case EQUAL -> v -> v == 0;
      case GREATER -> v -> v > 0;
      case LESS -> v -> v < 0;
      case NOT_EQUAL -> v -> v != 0;
      // A result etcd does not know holds, as in etcd.
      default -> v -> true;
    };
    return p.test(cmp);
  }
}
