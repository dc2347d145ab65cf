package io.kvorum.tests.robustness;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.tests.robustness.check.Operation;
import io.kvorum.tests.robustness.check.Request;
import io.kvorum.tests.robustness.check.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * One recording client: it sends a request to one member at a time (moving to the next after an
 * error, as clientv3's balancer does), and records each operation with its invoke and complete
 * times. A write that failed may still have been applied (a timeout, a lost leader, a killed
 * member), so it is recorded with an unknown outcome; a failed read had no effect and is dropped.
 */
final class KvClient {
  /** A request's deadline. */
  static final long REQUEST_TIMEOUT_MS = 2_000;
  /**
   * The pause after a failed request, as clientv3 backs off: without it a client spins on a
   * refused connection and records thousands of unknown outcomes while a member restarts.
   */
  static final long ERROR_BACKOFF_MS = 100;

  private final int id;
  private final ProcessCluster cluster;
  private final History history;
  private int member;

  KvClient(int id, ProcessCluster cluster, History history) {
    this.id = id;
    this.cluster = cluster;
    this.history = history;
    this.member = id;
  }

  private KVGrpc.KVBlockingStub stub() {
    List<io.kvorum.tests.MemberProcess> ms = cluster.members();
    return KVGrpc.newBlockingStub(cluster.channel(ms.get(Math.floorMod(member, ms.size()))))
        .withDeadlineAfter(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code request} and records it; returns the response, or null when it failed. */
  Response run(Request request) {
    long invoke = System.nanoTime();
    try {
      Response r = send(request);
      history.add(Operation.completed(id, invoke, Math.max(invoke, System.nanoTime()), request, r));
      return r;
    } catch (StatusRuntimeException e) {
      member++;
      history.failed(e);
      if (!(request instanceof Request.Get) && !neverSent(e)) {
        history.add(Operation.unknown(id, invoke, request));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MS));
      return null;
    }
  }

  /**
   * Reads every key of {@code keys} (sorted, all under one prefix) with one range, and records
   * what it saw of each key as a get: one range is one linearizable read of all of them at once.
   */
  void runRange(List<String> keys, String prefix) {
    long invoke = System.nanoTime();
    RangeResponse r;
    try {
      r = stub().range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(prefix))
          .setRangeEnd(ByteString.copyFromUtf8(prefix.substring(0, prefix.length() - 1)
              + (char) (prefix.charAt(prefix.length() - 1) + 1))).build());
    } catch (StatusRuntimeException e) {
      member++;
      history.failed(e);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MS));
      return;
    }
    long complete = Math.max(invoke, System.nanoTime());
    Map<String, KeyValue> seen = new HashMap<>();
    r.getKvsList().forEach(kv -> seen.put(kv.getKey().toStringUtf8(), kv));
    for (String k : keys) {
      KeyValue kv = seen.get(k);
      history.add(Operation.completed(id, invoke, complete, new Request.Get(k), kv == null
          ? new Response.Get(null, 0, r.getHeader().getRevision())
          : new Response.Get(kv.getValue().toStringUtf8(), kv.getModRevision(), r.getHeader().getRevision())));
    }
  }

  /**
   * Whether the request failed before it left the client: no connection to the member could be
   * made (refused while it restarts). Such a write certainly did not happen, and recording it as
   * unknown would only widen the checker's search.
   */
  static boolean neverSent(StatusRuntimeException e) {
    if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
      return false;
    }
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException) {
        return true;
      }
    }
    return false;
  }

  private Response send(Request request) {
    ByteString key = ByteString.copyFromUtf8(request.key());
    if (request instanceof Request.Put p) {
      PutResponse r = stub().put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8(p.value())).build());
      return new Response.Put(r.getHeader().getRevision());
    }
    if (request instanceof Request.Get) {
      RangeResponse r = stub().range(RangeRequest.newBuilder().setKey(key).build());
      return get(r.getKvsList(), r.getHeader().getRevision());
    }
    if (request instanceof Request.Delete) {
      DeleteRangeResponse r = stub().deleteRange(DeleteRangeRequest.newBuilder().setKey(key).build());
      return new Response.Delete(r.getDeleted() > 0, r.getHeader().getRevision());
    }
    Request.CompareAndSet c = (Request.CompareAndSet) request;
    TxnResponse r = stub().txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.MOD)
            .setResult(Compare.CompareResult.EQUAL).setModRevision(c.expectedModRevision()))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key)
            .setValue(ByteString.copyFromUtf8(c.newValue()))))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .build());
    return new Response.CompareAndSet(r.getSucceeded(), r.getHeader().getRevision());
  }

  private static Response.Get get(List<KeyValue> kvs, long revision) {
    if (kvs.isEmpty()) {
      return new Response.Get(null, 0, revision);
    }
    return new Response.Get(kvs.get(0).getValue().toStringUtf8(), kvs.get(0).getModRevision(), revision);
  }

  /** A call the workload makes outside the recorded history (compaction, leases), on this client's member. */
  <T> T call(Function<KVGrpc.KVBlockingStub, T> f) {
    try {
      return f.apply(stub());
    } catch (StatusRuntimeException e) {
      member++;
      throw e;
    }
  }
}
