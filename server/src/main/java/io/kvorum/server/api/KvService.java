package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.KvServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** etcd's KV service. */
final class KvService extends KVGrpc.KVImplBase {
  private static final RequestContext RANGE = Requests.base(KVGrpc.getRangeMethod());
  private static final RequestContext PUT = Requests.base(KVGrpc.getPutMethod());
  private static final RequestContext DELETE_RANGE = Requests.base(KVGrpc.getDeleteRangeMethod());
  private static final RequestContext TXN = Requests.base(KVGrpc.getTxnMethod());
  private static final RequestContext COMPACT = Requests.base(KVGrpc.getCompactMethod());
  private final MemberView member;
  private final KvServer server;
  private final AuthServer auth;

  KvService(MemberView member, KvServer server, AuthServer auth) {
    this.member = member;
    this.server = server;
    this.auth = auth;
  }

  private RequestContext ctx(RequestContext base) {
    return Requests.current(base, member.clock());
  }

  /** Completes {@code out} from {@code call}, mapping any failure (thrown or async) to etcd's error. */
  static <T> void answer(StreamObserver<T> out, Supplier<CompletableFuture<T>> call) {
    CompletableFuture<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    f.whenComplete((v, err) -> {
      if (err != null) {
        out.onError(GrpcErrors.toStatus(err));
      } else {
        out.onNext(v);
        out.onCompleted();
      }
    });
  }

  @Override
  public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
    CallerCredentials.answer(out, auth, ctx(RANGE), c -> server.range(c, request));
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    CallerCredentials.answer(out, auth, ctx(PUT), c -> server.put(c, request));
  }

  @Override
  public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
    CallerCredentials.answer(out, auth, ctx(DELETE_RANGE), c -> server.deleteRange(c, request));
  }

  @Override
  public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
    CallerCredentials.answer(out, auth, ctx(TXN), c -> server.txn(c, request));
  }

  @Override
  public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
    CallerCredentials.answer(out, auth, ctx(COMPACT), c -> server.compact(c, request));
  }
}
