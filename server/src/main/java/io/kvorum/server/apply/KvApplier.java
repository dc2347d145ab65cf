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
import io.kvorum.proto.etcdserverpb.ResponseOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.etcdserver.EtcdError;
import io.kvorum.server.mvcc.DeleteResult;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.RangeOptions;
import io.kvorum.server.mvcc.RangeResult;
import io.kvorum.server.mvcc.WriteTxn;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * etcd's KV semantics on one MVCC write transaction: Put, DeleteRange, Range and Txn as etcd's
 * {@code applierV3backend} executes them. Responses carry no header; the caller adds it. Errors
 * that depend on the state (a missing lease, a compacted revision) are thrown as
 * {@link io.kvorum.server.etcdserver.EtcdException}, identically on every member.
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
    } else if (lease != 0 && !leases.exists(lease)) {
      throw EtcdError.LEASE_NOT_FOUND.exception();
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
    if (order != RangeRequest.SortOrder.NONE) {
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

  /** etcd's Txn: evaluate every compare at the transaction's view, then run one branch. */
  public TxnResponse txn(WriteTxn txn, TxnRequest t) {
    boolean ok = true;
    for (Compare c : t.getCompareList()) {
      if (!compare(txn, c)) {
        ok = false;
        break;
      }
    }
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(ok);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      resp.addResponses(applyOp(txn, op));
    }
    return resp.build();
  }

  private ResponseOp applyOp(WriteTxn txn, RequestOp op) {
    return switch (op.getRequestCase()) {
      case REQUEST_RANGE -> ResponseOp.newBuilder().setResponseRange(range(txn, op.getRequestRange())).build();
      case REQUEST_PUT -> ResponseOp.newBuilder().setResponsePut(put(txn, op.getRequestPut())).build();
      case REQUEST_DELETE_RANGE -> ResponseOp.newBuilder()
          .setResponseDeleteRange(deleteRange(txn, op.getRequestDeleteRange())).build();
      case REQUEST_TXN -> ResponseOp.newBuilder().setResponseTxn(txn(txn, op.getRequestTxn())).build();
      default -> ResponseOp.getDefaultInstance();
    };
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
      default -> v -> false;
    };
    return p.test(cmp);
  }
}
