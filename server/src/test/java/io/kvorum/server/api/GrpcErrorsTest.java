package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.kvorum.server.errors.EtcdError;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** {@link GrpcErrors}: etcd's status for every failure, and never a Java exception's text. */
class GrpcErrorsTest {
  @Test
  void toStatus_etcdErrors_keepTheirCodeAndText() {
    StatusRuntimeException s = GrpcErrors.toStatus(new CompletionException(EtcdError.FUTURE_REV.exception()));
    assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(s.getStatus().getDescription()).isEqualTo("etcdserver: mvcc: required revision is a future revision");
  }

  @Test
  void toStatus_aRefusedTask_isAStoppedServer() {
    StatusRuntimeException s = GrpcErrors.toStatus(new RejectedExecutionException(
        "Task java.util.concurrent.CompletableFuture$AsyncSupply@1 rejected from java.util.concurrent.ThreadPoolExecutor@2"));
    assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getStatus().getDescription()).isEqualTo("etcdserver: server stopped");
  }

  @Test
  void toStatus_anythingUnexpected_isAFixedTextWithoutTheExceptionsMessage() {
    StatusRuntimeException s = GrpcErrors.toStatus(new IllegalStateException("limit must be >= 0, got -1"));
    assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(s.getStatus().getDescription()).isEqualTo("etcdserver: internal error");
    assertThat(s.getCause()).isNull();
  }
}
