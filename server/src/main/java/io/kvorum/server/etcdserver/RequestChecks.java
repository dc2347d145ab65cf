package io.kvorum.server.etcdserver;

import io.kvorum.server.errors.EtcdError;
import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.server.mvcc.KeyRange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks etcd makes before a request is proposed (its {@code v3rpc/key.go}): empty keys,
 * conflicting put options, txn size and duplicate keys. Failing here costs nothing: nothing was
 * proposed.
 */
public final class RequestChecks {
  private RequestChecks() {}

  public static void range(RangeRequest r) {
    if (r.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
    // etcd 3.4 sorts ascending when only a target other than the key is given, and panics (the
    // member exits) when it has to sort by a target it does not know; an unknown order it ignores.
    RangeRequest.SortOrder order = r.getSortOrder();
    boolean sorts = order == RangeRequest.SortOrder.ASCEND || order == RangeRequest.SortOrder.DESCEND
        || (order == RangeRequest.SortOrder.NONE && r.getSortTarget() != RangeRequest.SortTarget.KEY);
    if (sorts && r.getSortTarget() == RangeRequest.SortTarget.UNRECOGNIZED) {
      throw EtcdError.INVALID_SORT_OPTION.exception();
    }
  }

  public static void put(PutRequest p) {
    if (p.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
    if (p.getIgnoreValue() && !p.getValue().isEmpty()) {
      throw EtcdError.VALUE_PROVIDED.exception();
    }
    if (p.getIgnoreLease() && p.getLease() != 0) {
      throw EtcdError.LEASE_PROVIDED.exception();
    }
  }

  public static void deleteRange(DeleteRangeRequest d) {
    if (d.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
  }

  public static void txn(TxnRequest t, int maxTxnOps) {
    int opc = Math.max(t.getCompareCount(), Math.max(t.getSuccessCount(), t.getFailureCount()));
    if (opc > maxTxnOps) {
      throw EtcdError.TOO_MANY_OPS.exception();
    }
    for (var c : t.getCompareList()) {
      if (c.getKey().isEmpty()) {
        throw EtcdError.EMPTY_KEY.exception();
      }
    }
    for (List<RequestOp> ops : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : ops) {
        switch (op.getRequestCase()) {
          case REQUEST_RANGE -> range(op.getRequestRange());
          case REQUEST_PUT -> put(op.getRequestPut());
          case REQUEST_DELETE_RANGE -> deleteRange(op.getRequestDeleteRange());
          // A nested txn may use only what the enclosing one left of the limit.
          case REQUEST_TXN -> txn(op.getRequestTxn(), maxTxnOps - opc);
          // An op with no request: etcd's answer.
          default -> throw EtcdError.KEY_NOT_FOUND.exception();
        }
      }
    }
    checkDuplicates(t.getSuccessList());
    checkDuplicates(t.getFailureList());
  }

  /**
   * etcd refuses a txn branch in which a put's key is written twice or also deleted (nested txns
   * included); two deletes may overlap.
   */
  private static void checkDuplicates(List<RequestOp> ops) {
    Set<ByteString> puts = new HashSet<>();
    List<KeyRange> deletes = new ArrayList<>();
    collect(ops, puts, deletes);
    for (ByteString k : puts) {
      for (KeyRange d : deletes) {
        if (d.contains(k)) {
          throw EtcdError.DUPLICATE_KEY.exception();
        }
      }
    }
  }

  private static void collect(List<RequestOp> ops, Set<ByteString> puts, List<KeyRange> deletes) {
    for (RequestOp op : ops) {
      switch (op.getRequestCase()) {
        case REQUEST_PUT -> {
          if (!puts.add(op.getRequestPut().getKey())) {
            throw EtcdError.DUPLICATE_KEY.exception();
          }
        }
        case REQUEST_DELETE_RANGE -> deletes.add(KeyRange.fromRequest(op.getRequestDeleteRange().getKey(),
            op.getRequestDeleteRange().getRangeEnd()));
        case REQUEST_TXN -> {
          // A nested txn runs one of its branches: each branch may repeat keys of the other, but
          // neither may repeat keys of the enclosing branch.
          Set<ByteString> p1 = new HashSet<>(puts);
          List<KeyRange> d1 = new ArrayList<>(deletes);
          collect(op.getRequestTxn().getSuccessList(), p1, d1);
          Set<ByteString> p2 = new HashSet<>(puts);
          List<KeyRange> d2 = new ArrayList<>(deletes);
          collect(op.getRequestTxn().getFailureList(), p2, d2);
          p1.addAll(p2);
          puts.clear();
          puts.addAll(p1);
          d1.addAll(d2);
          deletes.clear();
          deletes.addAll(d1);
        }
        default -> { }
      }
    }
  }
}
