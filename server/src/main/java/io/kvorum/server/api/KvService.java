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
import io.kvorum.server.etcdserver.EtcdServer;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** etcd's KV service. */
final class KvService extends KVGrpc.KVImplBase {
  private final EtcdServer server;

  KvService(EtcdServer server) {
    this.server = server;
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
    answer(out, () -> server.range(request));
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    answer(out, () -> server.put(request));
  }

  @Override
  public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
    answer(out, () -> server.deleteRange(request));
  }

  @Override
  public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
    answer(out, () -> server.txn(request));
  }

  @Override
  public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
    answer(out, () -> server.compact(request));
  }
}
