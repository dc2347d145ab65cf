package io.kvorum.tests.differential;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The client a scenario drives on one side: every call goes to the side's members and is recorded
 * (request, then response or error, or each stream message), so the two sides' transcripts can be
 * compared. A scenario's keys live under its own prefix ({@link #key}).
 */
final class Recorder {
  /** How long one unary call may take. */
  static final long CALL_DEADLINE_MS = 15_000;
  /** How long a call started with {@link #start} may wait for its answer. */
  static final long PENDING_DEADLINE_MS = 30_000;
  /** How long {@link RecordedStream#await} waits for each expected stream message. */
  static final long STREAM_WAIT_MS = 5_000;
  /** How long {@link RecordedStream#finish()} waits for the server to end the stream. */
  static final long HALF_CLOSE_WAIT_MS = 1_000;
  /** How long {@link RecordedStream#quiet()} listens for messages that should not come. */
  static final long QUIET_MS = 300;

  /** Every RPC any scenario called, for the coverage check. */
  static final Set<String> CALLED = ConcurrentHashMap.newKeySet();

  final Side side;
  final List<Exchange> log = new ArrayList<>();
  private final String prefix;
  /** The auth token sent with every call from now on, or null for none. */
  private String token;

  Recorder(Side side, String prefix) {
    this.side = side;
    this.prefix = prefix;
  }

  boolean isKvorum() {
    return side.kind == Side.Kind.KVORUM;
  }

  /** {@code name} under this scenario's prefix. */
  ByteString key(String name) {
    return ByteString.copyFromUtf8(prefix + name);
  }

  ByteString prefix() {
    return ByteString.copyFromUtf8(prefix);
  }

  static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  /** Sends {@code token} (etcd's {@code token} metadata) with the calls that follow; null for none. */
  void as(String token) {
    this.token = token;
  }

  /** Member {@code member}'s channel, with the current token attached. */
  private Channel channel(int member) {
    Channel ch = side.channel(member);
    if (token == null) {
      return ch;
    }
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), token);
    return ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(md));
  }

  /** Records a fact the scenario derived from what it saw; compared like a response. */
  void note(String fact) {
    log.add(new Exchange(Exchange.Kind.NOTE, 0, "", null, null, fact));
  }

  <Q extends Message, R extends Message> R call(MethodDescriptor<Q, R> method, Q request) {
    return call(0, method, request);
  }

  /** A unary call to member {@code member}; null when it failed (the error is recorded). */
  <Q extends Message, R extends Message> R call(int member, MethodDescriptor<Q, R> method, Q request) {
    CALLED.add(method.getFullMethodName());
    String name = method.getFullMethodName();
    log.add(new Exchange(Exchange.Kind.REQUEST, member, name, request, null, null));
    try {
      R r = ClientCalls.blockingUnaryCall(channel(member), method,
          CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS), request);
      log.add(new Exchange(Exchange.Kind.RESPONSE, member, name, r, null, null));
      return r;
    } catch (StatusRuntimeException e) {
      log.add(new Exchange(Exchange.Kind.ERROR, member, name, null, e.getStatus(), null));
      return null;
    }
  }

  /**
   * Starts a unary call to member {@code member} that may wait (an election campaign, a lock):
   * the request is recorded now, the answer only when the scenario {@link Pending#await awaits} it,
   * so the transcript's order does not depend on when the answer arrived.
   */
  <Q extends Message, R extends Message> Pending<R> start(int member, MethodDescriptor<Q, R> method, Q request) {
    CALLED.add(method.getFullMethodName());
    log.add(new Exchange(Exchange.Kind.REQUEST, member, method.getFullMethodName(), request, null, null));
    ClientCall<Q, R> call = channel(member).newCall(method,
        CallOptions.DEFAULT.withDeadlineAfter(PENDING_DEADLINE_MS, TimeUnit.MILLISECONDS));
    java.util.concurrent.CompletableFuture<R> answer = new java.util.concurrent.CompletableFuture<>();
    ClientCalls.asyncUnaryCall(call, request, new StreamObserver<R>() {
      @Override
      public void onNext(R value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        // The answer came with onNext.
      }
    });
    return new Pending<>(member, method.getFullMethodName(), call, answer);
  }

  /** A unary call started with {@link #start}, answered (or not yet) in the background. */
  final class Pending<R extends Message> {
    private final int member;
    private final String name;
    private final ClientCall<?, R> call;
    private final java.util.concurrent.CompletableFuture<R> answer;

    Pending(int member, String name, ClientCall<?, R> call, java.util.concurrent.CompletableFuture<R> answer) {
      this.member = member;
      this.name = name;
      this.call = call;
      this.answer = answer;
    }

    /** Records that no answer came within {@link #QUIET_MS} (the call still waits), or the answer that did. */
    void stillWaiting() throws InterruptedException {
      try {
        answer.get(QUIET_MS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        note(name + " still waiting");
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        // Recorded below.
      }
      note(name + " answered while it should wait");
      await();
    }

    /** Records the answer (waiting for it up to the call's deadline); null when it failed. */
    R await() throws InterruptedException {
      try {
        R r = answer.get(PENDING_DEADLINE_MS, TimeUnit.MILLISECONDS);
        log.add(new Exchange(Exchange.Kind.RESPONSE, member, name, r, null, null));
        return r;
      } catch (java.util.concurrent.ExecutionException e) {
        log.add(new Exchange(Exchange.Kind.ERROR, member, name, null, Status.fromThrowable(e.getCause()), null));
        return null;
      } catch (java.util.concurrent.TimeoutException e) {
        note(name + " not answered within " + PENDING_DEADLINE_MS + " ms");
        cancel();
        return null;
      }
    }

    /** Cancels the call (the client goes away); recorded as a note. */
    void cancel() {
      call.cancel("scenario cancels", null);
      note(name + " cancelled by the client");
    }
  }

  PutResponse put(String key, String value) {
    return call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(key(key)).setValue(bytes(value)).build());
  }

  RangeResponse get(String key) {
    return call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(key(key)).build());
  }

  /** The side's current revision, read without recording (for scenarios that work relative to it). */
  long revision() {
    return side.unrecorded(0, KVGrpc.getRangeMethod(),
        RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("\0")).setSerializable(true).build())
        .getHeader().getRevision();
  }

  <Q extends Message, R extends Message> RecordedStream<Q, R> stream(MethodDescriptor<Q, R> method) {
    return stream(0, method);
  }

  /** Opens a bidirectional stream to member {@code member}. */
  <Q extends Message, R extends Message> RecordedStream<Q, R> stream(int member, MethodDescriptor<Q, R> method) {
    CALLED.add(method.getFullMethodName());
    return new RecordedStream<>(member, method);
  }

  /** Starts a server-streaming call to member {@code member} with {@code request} (recorded as sent). */
  <Q extends Message, R extends Message> RecordedStream<Q, R> serverStream(int member, MethodDescriptor<Q, R> method,
      Q request) {
    CALLED.add(method.getFullMethodName());
    return new RecordedStream<>(member, method, request);
  }

  /** A recorded bidirectional stream; messages are moved into the transcript only when the scenario asks. */
  final class RecordedStream<Q extends Message, R extends Message> {
    private final int member;
    private final String name;
    private final ClientCall<Q, R> call;
    private final StreamObserver<Q> requests;
    /** Messages (R) and the final Status, as they arrive. */
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private boolean ended;

    RecordedStream(int member, MethodDescriptor<Q, R> method) {
      this.member = member;
      this.name = method.getFullMethodName();
      this.call = channel(member).newCall(method, CallOptions.DEFAULT);
      this.requests = ClientCalls.asyncBidiStreamingCall(call, inbox());
    }

    /** A server-streaming call: {@code request} is its only request (no {@link #send}, no half-close). */
    RecordedStream(int member, MethodDescriptor<Q, R> method, Q request) {
      this.member = member;
      this.name = method.getFullMethodName();
      this.call = channel(member).newCall(method, CallOptions.DEFAULT);
      this.requests = null;
      log.add(new Exchange(Exchange.Kind.SEND, member, name, request, null, null));
      ClientCalls.asyncServerStreamingCall(call, request, inbox());
    }

    private StreamObserver<R> inbox() {
      return new StreamObserver<R>() {
        @Override
        public void onNext(R value) {
          inbox.add(value);
        }

        @Override
        public void onError(Throwable t) {
          inbox.add(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
          inbox.add(Status.OK);
        }
      };
    }

    void send(Q request) {
      log.add(new Exchange(Exchange.Kind.SEND, member, name, request, null, null));
      requests.onNext(request);
    }

    /** Records the next {@code n} messages (or the stream's end); returns the messages. */
    List<R> await(int n) throws InterruptedException {
      return await(n, null);
    }

    /**
     * Records the next {@code n} messages in the order {@code order} puts them: for messages whose
     * relative order the server does not define (etcd notifies the watchers of one revision in Go
     * map order).
     */
    List<R> await(int n, Comparator<R> order) throws InterruptedException {
      List<R> got = new ArrayList<>();
      Status end = null;
      while (got.size() < n && !ended && end == null) {
        Object o = inbox.poll(STREAM_WAIT_MS, TimeUnit.MILLISECONDS);
        if (o == null) {
          break;
        }
        if (o instanceof Status st) {
          end = st;
        } else {
          @SuppressWarnings("unchecked")
          R r = (R) o;
          got.add(r);
        }
      }
      if (order != null) {
        got.sort(order);
      }
      for (R r : got) {
        take(r);
      }
      if (got.size() < n && end == null && !ended) {
        note("no stream message within " + STREAM_WAIT_MS + " ms (expected " + n + ", got " + got.size() + ")");
      }
      if (end != null) {
        take(end);
      }
      return got;
    }

    /**
     * Takes every message until the stream ends, at most {@code max} of them, recording only the end:
     * for streams whose bytes differ by side and which the scenario describes by notes instead.
     */
    List<R> collectUnrecorded(int max) throws InterruptedException {
      List<R> got = new ArrayList<>();
      while (!ended && got.size() < max) {
        Object o = inbox.poll(STREAM_WAIT_MS, TimeUnit.MILLISECONDS);
        if (o == null) {
          note("stream did not end within " + STREAM_WAIT_MS + " ms of its last message");
          break;
        }
        if (o instanceof Status) {
          take(o);
        } else {
          @SuppressWarnings("unchecked")
          R r = (R) o;
          got.add(r);
        }
      }
      return got;
    }

    /** Records whatever arrives within {@link #QUIET_MS} (usually nothing, which is the point). */
    List<R> quiet() throws InterruptedException {
      List<R> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(QUIET_MS);
      while (!ended) {
        long left = deadline - System.nanoTime();
        Object o = left <= 0 ? null : inbox.poll(left, TimeUnit.NANOSECONDS);
        if (o == null) {
          break;
        }
        got.addAll(take(o));
      }
      return got;
    }

    @SuppressWarnings("unchecked")
    private List<R> take(Object o) {
      if (o instanceof Status s) {
        ended = true;
        log.add(new Exchange(Exchange.Kind.END, member, name, null, s, null));
        return List.of();
      }
      log.add(new Exchange(Exchange.Kind.RECEIVE, member, name, (R) o, null, null));
      return List.of((R) o);
    }

    /**
     * Half-closes the request side and records how the server ends the stream, or that it keeps it
     * open (etcd's watch streams outlive a half-close; its keep-alive streams end at once).
     */
    void finish() throws InterruptedException {
      halfClose();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HALF_CLOSE_WAIT_MS);
      while (!ended) {
        long left = deadline - System.nanoTime();
        Object o = left <= 0 ? null : inbox.poll(left, TimeUnit.NANOSECONDS);
        if (o == null) {
          note("stream still open " + HALF_CLOSE_WAIT_MS + " ms after the half-close");
          cancel();
          return;
        }
        take(o);
      }
    }

    /** Closes the request side only; the scenario then reads on. */
    void halfClose() {
      requests.onCompleted();
      note("client half-closed");
    }

    /** Cancels the call without recording (the end of a scenario). */
    void cancel() {
      call.cancel("scenario done", null);
      ended = true;
    }
  }
}
