package io.kvorum.server.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;

/**
 * A request whose bytes do not parse is answered as etcd's gRPC server (grpc-go) answers it:
 * {@code INTERNAL} "grpc: error unmarshalling request: …". grpc-java parses a request inside the
 * call's listener, so a parse failure escapes as an application error and the client would get
 * {@code UNKNOWN} "Application error processing RPC", the answer that otherwise means a handler
 * failed. The service is served with its messages as streams ({@link
 * ServerInterceptors#useInputStreamMessages}: the same bytes, parsed once, by the same code) and
 * this layer, around the parse, closes the call with grpc-go's status instead.
 */
final class UnmarshalRefusal implements ServerInterceptor {
  /** grpc-go's prefix; the rest is the parser's reason, which is Go's own text in etcd. */
  static final String PREFIX = "grpc: error unmarshalling request: ";

  private UnmarshalRefusal() {}

  /** {@code service}, with requests that do not parse refused as etcd refuses them. */
  static ServerServiceDefinition around(ServerServiceDefinition service) {
    return ServerInterceptors.intercept(ServerInterceptors.useInputStreamMessages(service), new UnmarshalRefusal());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    ServerCall.Listener<Q> parsing = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(parsing) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        try {
          super.onMessage(message);
        } catch (StatusRuntimeException e) {
          if (!(e.getCause() instanceof InvalidProtocolBufferException bad) || !(message instanceof InputStream)) {
            throw e;
          }
          refused = true;
          call.close(Status.INTERNAL.withDescription(PREFIX + bad.getMessage()), new Metadata());
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onReady() {
        if (!refused) {
          super.onReady();
        }
      }
    };
  }
}
