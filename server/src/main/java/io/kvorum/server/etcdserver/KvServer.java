package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's KV service as the member serves it (etcd's {@code RaftKV}). Futures fail with an
 * {@link io.kvorum.server.errors.EtcdException} carrying etcd's error.
 */
public interface KvServer {
  CompletableFuture<RangeResponse> range(RequestContext ctx, RangeRequest r);

  CompletableFuture<PutResponse> put(RequestContext ctx, PutRequest r);

  CompletableFuture<DeleteRangeResponse> deleteRange(RequestContext ctx, DeleteRangeRequest r);

  CompletableFuture<TxnResponse> txn(RequestContext ctx, TxnRequest r);

  CompletableFuture<CompactionResponse> compact(RequestContext ctx, CompactionRequest r);
}
