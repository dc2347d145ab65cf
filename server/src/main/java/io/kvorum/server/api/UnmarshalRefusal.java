package io.kvorum.server.api;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A request whose bytes do not parse is answered as etcd's gRPC server (grpc-go) answers it:
 * {@code INTERNAL} "grpc: error unmarshalling request: …". grpc-java parses a request inside the
 * call's listener, so a parse failure escapes as an application error and the client would get
 * {@code UNKNOWN} "Application error processing RPC", the answer that otherwise means a handler
 * failed. Each method is therefore served with its requests as the transport's byte stream and
 * parsed here, by the method's own marshaller (the same bytes, parsed once, by the same code),
 * where a failure closes the call with grpc-go's status.
 *
 * <p>Only requests are rerouted: responses keep the method's own marshaller, so the transport
 * still drains a protobuf response straight into its buffers. (grpc-java's {@code
 * ServerInterceptors.useInputStreamMessages}, used here at first, reroutes responses too and wraps
 * each in a {@code BufferedInputStream}, which costs a copy and an 8 KiB buffer per response: one
 * member's put and watch fan-out throughput fell by a fifth to a quarter, finding 15 in
 * {@code docs/performance.md}.)
 */
final class UnmarshalRefusal {
  /** grpc-go's prefix; the rest is the parser's reason, which is Go's own text in etcd. */
  static final String PREFIX = "grpc: error unmarshalling request: ";

  /** The transport's request stream, handed on as it is: it is parsed before the listener returns. */
  private static final MethodDescriptor.Marshaller<InputStream> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  private UnmarshalRefusal() {}

  /** {@code service}, with requests that do not parse refused as etcd refuses them. */
  static ServerServiceDefinition around(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<?, ?> wrapped = wrap(m);
      methods.add(wrapped);
      descriptor.addMethod(wrapped.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(b::addMethod);
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<InputStream, R> wrap(ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
    MethodDescriptor<InputStream, R> raw = method.toBuilder(RAW, method.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    return ServerMethodDefinition.create(raw, (call, headers) -> {
      ServerCall.Listener<Q> listener = handler.startCall(new Typed<>(call, method), headers);
      return new Parsing<>(call, method, listener);
    });
  }

  /** The call as the method's handler sees it: its own method descriptor, the same call otherwise. */
  private static final class Typed<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> method;

    Typed(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public io.grpc.SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }
  }

  /** Parses each request for the handler's listener; a request that does not parse ends the call. */
  private static final class Parsing<Q, R> extends ServerCall.Listener<InputStream> {
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> method;
    private final ServerCall.Listener<Q> listener;
    private boolean refused;

    Parsing(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method, ServerCall.Listener<Q> listener) {
      this.call = call;
      this.method = method;
      this.listener = listener;
    }

    @Override
    public void onMessage(InputStream bytes) {
      if (refused) {
        return;
      }
      Q request;
      try {
        request = method.parseRequest(bytes);
      } catch (StatusRuntimeException e) {
        // grpc-java's protobuf marshaller: INTERNAL "Invalid protobuf byte sequence", the parser's
        // exception as the cause, whose words follow grpc-go's prefix.
        refused = true;
        Throwable cause = e.getCause() == null ? e : e.getCause();
        call.close(Status.INTERNAL.withDescription(PREFIX + cause.getMessage()), new Metadata());
        return;
      }
      listener.onMessage(request);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        listener.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        listener.onReady();
      }
    }

    @Override
    public void onCancel() {
      listener.onCancel();
    }

    @Override
    public void onComplete() {
      listener.onComplete();
    }
  }
}
