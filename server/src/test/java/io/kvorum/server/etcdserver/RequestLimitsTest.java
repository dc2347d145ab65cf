package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --max-txn-ops} and {@code --max-request-bytes} bound requests, with etcd's errors. */
class RequestLimitsTest {
  static final int MAX_TXN_OPS = 3;
  static final long MAX_REQUEST_BYTES = 1024;
  @TempDir Path dir;
  LocalCluster cluster;
  EtcdServer member;

  @BeforeEach
  void start() throws IOException {
    cluster = LocalCluster.start(dir, 1, b -> {
      b.maxTxnOps = MAX_TXN_OPS;
      b.maxRequestBytes = MAX_REQUEST_BYTES;
    });
    member = cluster.leader(s -> true);
  }

  @AfterEach
  void stop() throws IOException {
    cluster.close();
  }

  private static PutRequest put(String k, int valueBytes) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k))
        .setValue(ByteString.copyFrom(new byte[valueBytes])).build();
  }

  private static TxnRequest txnOfPuts(int n) {
    TxnRequest.Builder t = TxnRequest.newBuilder();
    for (int i = 0; i < n; i++) {
      t.addSuccess(RequestOp.newBuilder().setRequestPut(put("k" + i, 1)));
    }
    return t.build();
  }

  /** The etcd error a call ends with, thrown at once or through its future. */
  private static EtcdError errorOf(java.util.concurrent.Callable<?> call) throws Exception {
    try {
      Object f = call.call();
      ((java.util.concurrent.CompletableFuture<?>) f).get(20, TimeUnit.SECONDS);
      return null;
    } catch (EtcdException e) {
      return e.error();
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(EtcdException.class);
      return ((EtcdException) e.getCause()).error();
    }
  }

  @Test
  void txn_moreOpsThanMaxTxnOps_failsWithTooManyOperations() throws Exception {
    assertThat(errorOf(() -> member.kv().txn(RequestContext.of("test"), txnOfPuts(MAX_TXN_OPS)))).isNull();
    EtcdError e = errorOf(() -> member.kv().txn(RequestContext.of("test"), txnOfPuts(MAX_TXN_OPS + 1)));
    assertThat(e).isEqualTo(EtcdError.TOO_MANY_OPS);
    assertThat(e.message()).isEqualTo("etcdserver: too many operations in txn request");
  }

  @Test
  void put_largerThanMaxRequestBytes_failsWithRequestTooLarge() throws Exception {
    assertThat(errorOf(() -> member.kv().put(RequestContext.of("test"), put("small", 512)))).isNull();
    EtcdError e = errorOf(() -> member.kv().put(RequestContext.of("test"), put("large", (int) MAX_REQUEST_BYTES)));
    assertThat(e).isEqualTo(EtcdError.REQUEST_TOO_LARGE);
    assertThat(e.message()).isEqualTo("etcdserver: request is too large");
  }
}
