package io.kvorum.server.api;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.etcdserver.MemberView;

/**
 * etcd 3.4's rule for learners: a learner serves only Maintenance.Status and serializable ranges;
 * every other call, and every stream, fails with {@code etcdserver: rpc not supported for learner}
 * (clients then try another member).
 */
final class LearnerGuard implements ServerInterceptor {
  private final MemberView server;

  LearnerGuard(MemberView server) {
    this.server = server;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!server.isLearner()) {
      return next.startCall(call, headers);
    }
    if (call.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY) {
      refuse(call);
      return new ServerCall.Listener<>() { };
    }
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (message instanceof StatusRequest || (message instanceof RangeRequest r && r.getSerializable())) {
          super.onMessage(message);
        } else {
          refused = true;
          refuse(call);
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  private static void refuse(ServerCall<?, ?> call) {
    call.close(GrpcErrors.status(EtcdError.NOT_SUPPORTED_FOR_LEARNER), new Metadata());
  }
}
