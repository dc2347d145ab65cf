package io.kvorum.server.api;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.server.metrics.GrpcServerMetrics;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * Counts client calls as etcd's go-grpc-prometheus interceptors do: {@code grpc_server_started_total}
 * when the handler is called, one {@code grpc_server_msg_received_total} and
 * {@code grpc_server_msg_sent_total} per message, {@code grpc_server_handled_total} with the
 * status code once the call ends — the client's cancel counts as {@code Canceled}, as etcd's
 * watch and lease streams return it — and etcd's client byte and per-API-version request counters.
 *
 * <p>It runs inside the leader and learner checks ({@link ClientServer} adds it first), so a call
 * those refuse is not counted, as in etcd, whose own interceptor runs before go-grpc-prometheus's.
 * The methods of etcd's six client services are registered with 0 at start, as etcd's
 * {@code grpc_prometheus.Register} does.
 *
 * <p>Per call it allocates the two forwarding wrappers and nothing per message: a message is
 * counted with an add and its size is the one protobuf memoizes for serializing it.
 */
final class GrpcMetrics implements ServerInterceptor {
  /** gRPC's status codes as Go names them (what the {@code grpc_code} label holds), by code value. */
  static final List<String> CODE_NAMES = List.of("OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
      "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
      "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated");
  /** etcd's client API version header ({@code rpctypes.MetadataClientAPIVersionKey}). */
  static final Metadata.Key<String> CLIENT_API_VERSION =
      Metadata.Key.of("client-api-version", Metadata.ASCII_STRING_MARSHALLER);
  private static final List<ServiceDescriptor> ETCD_SERVICES = List.of(KVGrpc.getServiceDescriptor(),
      WatchGrpc.getServiceDescriptor(), LeaseGrpc.getServiceDescriptor(), ClusterGrpc.getServiceDescriptor(),
      AuthGrpc.getServiceDescriptor(), MaintenanceGrpc.getServiceDescriptor());

  private final GrpcServerMetrics metrics;

  GrpcMetrics(GrpcServerMetrics metrics) {
    this.metrics = metrics;
    for (ServiceDescriptor s : ETCD_SERVICES) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        method(m);
      }
    }
  }

  /**
   * The method's metrics: every etcd method is registered up front, so a call only looks it up
   * (grpc-java computes the bare method name anew at each call: only an unknown method needs it).
   */
  private GrpcServerMetrics.Method method(MethodDescriptor<?, ?> m) {
    GrpcServerMetrics.Method known = metrics.lookup(m.getFullMethodName());
    if (known != null) {
      return known;
    }
    return metrics.method(m.getFullMethodName(), m.getServiceName(), m.getBareMethodName(), type(m.getType()),
        CODE_NAMES);
  }

  /** go-grpc-prometheus's name of a method type. */
  static String type(MethodDescriptor.MethodType t) {
    return switch (t) {
      case UNARY -> "unary";
      case CLIENT_STREAMING -> "client_stream";
      case SERVER_STREAMING -> "server_stream";
      case BIDI_STREAMING -> "bidi_stream";
      case UNKNOWN -> "unknown";
    };
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    MethodDescriptor<Q, R> md = call.getMethodDescriptor();
    GrpcServerMetrics.Method m = method(md);
    String version = headers.get(CLIENT_API_VERSION);
    metrics.clientRequest(md.getType() == MethodDescriptor.MethodType.UNARY, version == null ? "unknown" : version);
    long startedAt = m.started();
    CountedCall<Q, R> counted = new CountedCall<>(call, m, metrics, startedAt);
    return new CountedListener<>(next.startCall(counted, headers), counted, m, metrics);
  }

  private static long size(Object message) {
    return message instanceof MessageLite ml ? ml.getSerializedSize() : 0;
  }

  /** Counts what the server sends, and the call's end (once). */
  private static final class CountedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private static final AtomicIntegerFieldUpdater<CountedCall<?, ?>> ENDED =
        AtomicIntegerFieldUpdater.newUpdater(castClass(), "ended");
    private final GrpcServerMetrics.Method method;
    private final GrpcServerMetrics metrics;
    private volatile int ended;
    private final long startedAt;

    CountedCall(ServerCall<Q, R> call, GrpcServerMetrics.Method method, GrpcServerMetrics metrics, long startedAt) {
      super(call);
      this.startedAt = startedAt;
      this.method = method;
      this.metrics = metrics;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Class<CountedCall<?, ?>> castClass() {
      return (Class) CountedCall.class;
    }

    @Override
    public void sendMessage(R message) {
      super.sendMessage(message);
      method.sent();
      metrics.sentBytes(size(message));
    }

    @Override
    public void close(Status status, Metadata trailers) {
      end(status.getCode().value());
      super.close(status, trailers);
    }

    void end(int code) {
      if (ENDED.compareAndSet(this, 0, 1)) {
        method.handled(code, startedAt);
      }
    }
  }

  /** Counts what the client sends, and its cancel. */
  private static final class CountedListener<Q>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final CountedCall<Q, ?> call;
    private final GrpcServerMetrics.Method method;
    private final GrpcServerMetrics metrics;

    CountedListener(ServerCall.Listener<Q> delegate, CountedCall<Q, ?> call, GrpcServerMetrics.Method method,
        GrpcServerMetrics metrics) {
      super(delegate);
      this.call = call;
      this.method = method;
      this.metrics = metrics;
    }

    @Override
    public void onMessage(Q message) {
      method.received();
      metrics.receivedBytes(size(message));
      super.onMessage(message);
    }

    @Override
    public void onCancel() {
      call.end(Status.Code.CANCELLED.value());
      super.onCancel();
    }
  }
}
