package io.kvorum.server.api;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.watch.WatchHub;
import io.kvorum.server.watch.WatchStream;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * etcd's Watch service: each gRPC stream is a {@link WatchStream} of the member's hub. Responses
 * are sent only while gRPC's transport is ready (flow control), by a small shared pool, so a slow
 * client holds its own bounded queue and nothing else. Streams opened with {@code hasleader}
 * metadata end with {@code etcdserver: no leader} once the member has had no leader for three
 * election timeouts, as etcd's leader monitor does.
 */
final class WatchService extends WatchGrpc.WatchImplBase {
  /**
   * A stream stops reading requests while this many of its requests wait for the watch hub or
   * their answers (control responses) wait to be sent; it reads again below half of it.
   */
  static final int CONTROL_BACKLOG_MAX = 1024;
  /** Consecutive leader checks without a leader before require-leader streams are cut (etcd: 3). */
  private static final int NO_LEADER_CHECKS_MAX = 3;

  private static final RequestContext WATCH = Requests.base(WatchGrpc.getWatchMethod());
  /** An empty watch key means "\0", the smallest key (as etcd reads it). */
  private static final ByteString SMALLEST_KEY = ByteString.copyFrom(new byte[] {0});
  private final MemberView member;
  private final AuthServer auth;
  private final WatchHub hub;
  private final Executor senders;
  private final Clock.Timer monitor;
  private final Set<Sender> requireLeader = ConcurrentHashMap.newKeySet();
  private int noLeaderChecks;

  WatchService(MemberView member, AuthServer auth, WatchHub hub, Executor senders) {
    this.member = member;
    this.auth = auth;
    this.hub = hub;
    this.senders = senders;
    this.monitor = member.clock().scheduleEvery(member.config().electionTimeout, this::checkLeader);
  }

  /** Stops checking for a leader. */
  void close() {
    monitor.cancel();
  }

  private void checkLeader() {
    if (member.leader() != 0) {
      noLeaderChecks = 0;
      return;
    }
    if (++noLeaderChecks < NO_LEADER_CHECKS_MAX) {
      return;
    }
    for (Sender s : requireLeader) {
      s.fail(EtcdError.NO_LEADER.exception());
    }
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
    ServerCallStreamObserver<WatchResponse> out = (ServerCallStreamObserver<WatchResponse>) responses;
    WatchStream ws = hub.openStream();
    Sender sender = new Sender(out, ws);
    boolean leaderRequired = RequireLeader.required();
    if (leaderRequired) {
      requireLeader.add(sender);
    }
    ws.onSendable(sender::schedule);
    out.setOnReadyHandler(sender::schedule);
    out.setOnCancelHandler(sender::closed);
    // Requests are read one at a time and only while the stream's answers are being taken.
    out.disableAutoRequest();
    out.request(1);
    return new StreamObserver<>() {
      @Override
      public void onNext(WatchRequest req) {
        if (req.getRequestUnionCase() == WatchRequest.RequestUnionCase.CREATE_REQUEST) {
          // The next request is read once this one is identified, so creates keep their order.
          create(req.getCreateRequest(), CallerCredentials.current());
          return;
        }
        try {
          handle(req);
        } finally {
          sender.requestNext();
        }
      }

      /** etcd's create check: the stream's user may read the whole watched range. */
      private void create(WatchCreateRequest r, Credentials c) {
        CompletableFuture<RequestContext> who;
        try {
          who = auth.identify(Requests.current(WATCH, member.clock()), c);
        } catch (RuntimeException e) {
          who = CompletableFuture.failedFuture(e);
        }
        who.whenComplete((ctx, err) -> {
          try {
            if (err == null) {
              auth.checkRange(ctx, r.getKey().isEmpty() ? SMALLEST_KEY : r.getKey(), r.getRangeEnd());
              ws.create(r);
            } else {
              ws.refuse(cancelReason(err));
            }
          } catch (EtcdException e) {
            ws.refuse(cancelReason(e));
          } finally {
            sender.requestNext();
          }
        });
      }

      private void handle(WatchRequest req) {
        switch (req.getRequestUnionCase()) {
          case CANCEL_REQUEST -> ws.cancel(req.getCancelRequest().getWatchId());
          case PROGRESS_REQUEST -> ws.requestProgress();
          default -> {
            // etcd ignores a request it does not know
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        sender.closed();
      }

      @Override
      public void onCompleted() {
        // As etcd: the client closing its side ends nothing; its watchers go on sending until it
        // cancels the call (then the cancel handler cleans up).
      }
    };
  }

  /**
   * etcd's cancel reason for a create refused by auth: the text of the gRPC status error it would
   * have returned, as Go prints it ({@code rpc error: code = PermissionDenied desc = etcdserver:
   * permission denied}).
   */
  static String cancelReason(Throwable err) {
    Throwable t = err;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    EtcdError e = t instanceof EtcdException ee ? ee.error() : EtcdError.PERMISSION_DENIED;
    e = switch (e) {
      case INVALID_AUTH_TOKEN, AUTH_OLD_REVISION, USER_EMPTY -> e;
      default -> EtcdError.PERMISSION_DENIED;
    };
    return "rpc error: code = " + goCodeName(e.code()) + " desc = " + e.message();
  }

  /** A gRPC code as Go's {@code codes.Code.String()} names it: {@code PERMISSION_DENIED} is {@code PermissionDenied}. */
  static String goCodeName(EtcdError.Code code) {
    if (code == EtcdError.Code.OK) {
      return "OK";
    }
    StringBuilder b = new StringBuilder();
    for (String part : code.name().split("_")) {
      b.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return b.toString();
  }

  /** Sends a stream's queued responses while the transport is ready; one run at a time. */
  private final class Sender implements Runnable {
    private final ServerCallStreamObserver<WatchResponse> out;
    private final WatchStream ws;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private boolean done;
    /** Reading requests is paused until the control backlog drains (guarded by this). */
    private boolean paused;

    Sender(ServerCallStreamObserver<WatchResponse> out, WatchStream ws) {
      this.out = out;
      this.ws = ws;
    }

    /** After a request: read the next one, unless too many answers are waiting to be sent. */
    synchronized void requestNext() {
      if (done) {
        return;
      }
      if (ws.controlBacklog() >= CONTROL_BACKLOG_MAX) {
        paused = true;
      } else {
        out.request(1);
      }
    }

    void schedule() {
      if (scheduled.compareAndSet(false, true)) {
        senders.execute(this);
      }
    }

    @Override
    public void run() {
      scheduled.set(false);
      synchronized (this) {
        try {
          while (!done && out.isReady()) {
            List<WatchResponse> rs = ws.poll();
            if (rs.isEmpty()) {
              break;
            }
            for (WatchResponse r : rs) {
              out.onNext(r);
            }
          }
          if (paused && !done && ws.controlBacklog() < CONTROL_BACKLOG_MAX / 2) {
            paused = false;
            out.request(1);
          }
        } catch (RuntimeException e) {
          // The call ended under us (cancelled); nothing more to send.
          end(null);
        }
      }
    }

    /** The client cancelled or the call broke. */
    void closed() {
      end(null);
    }

    void fail(RuntimeException e) {
      end(o -> o.onError(GrpcErrors.toStatus(e)));
    }

    /** Ends the stream once: {@code last} (if any) is the call's final word; the watchers go. */
    private void end(Consumer<ServerCallStreamObserver<WatchResponse>> last) {
      synchronized (this) {
        if (!done) {
          done = true;
          if (last != null) {
            last.accept(out);
          }
        }
      }
      ws.close();
      requireLeader.remove(this);
    }
  }
}
