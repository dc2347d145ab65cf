package io.kvorum.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3electionpb.LeaderRequest;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimRequest;
import io.kvorum.proto.v3electionpb.ProclaimResponse;
import io.kvorum.proto.v3electionpb.ResignRequest;
import io.kvorum.proto.v3electionpb.ResignResponse;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.concurrency.Caller;
import io.kvorum.server.concurrency.Elections;
import io.kvorum.server.concurrency.Observation;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * etcd's Election service ({@code v3electionpb.Election}). As in etcd, errors go out unmapped
 * (UNKNOWN with etcd's text), since etcd serves the service through an in-process client.
 *
 * <p>A client that cancels a waiting Campaign (or whose deadline passes) stops the wait and its
 * key is resigned. Observe streams send only while gRPC's transport is ready; the observation
 * behind them holds a bounded backlog. An Observe stream opened with {@code hasleader} metadata ends
 * with {@code etcdserver: no leader} once the member has had no leader for three election
 * timeouts, as etcd's stream interceptor cuts every such stream.
 */
final class ElectionService extends ElectionGrpc.ElectionImplBase {
  /** Consecutive leader checks without a leader before require-leader streams are cut (etcd: 3). */
  private static final int NO_LEADER_CHECKS_MAX = 3;

  private static final RequestContext CAMPAIGN = Requests.base(ElectionGrpc.getCampaignMethod());
  private static final RequestContext PROCLAIM = Requests.base(ElectionGrpc.getProclaimMethod());
  private static final RequestContext LEADER = Requests.base(ElectionGrpc.getLeaderMethod());
  private static final RequestContext OBSERVE = Requests.base(ElectionGrpc.getObserveMethod());
  private static final RequestContext RESIGN = Requests.base(ElectionGrpc.getResignMethod());
  private final MemberView member;
  private final Elections elections;
  // Guarded by this: the require-leader Observe streams, and the check that runs while there are any.
  private final Set<ObserveSender> requireLeader = new HashSet<>();
  private Clock.Timer monitor;
  private int noLeaderChecks;

  ElectionService(MemberView member, Elections elections) {
    this.member = member;
    this.elections = elections;
  }

  /** The current call's caller: its context (deadline included) and the credentials it presented. */
  static Caller caller(RequestContext base, MemberView member) {
    return new Caller(Requests.current(base, member.clock()), CallerCredentials.current());
  }

  /**
   * Answers a unary call from {@code call}'s future, errors unmapped; the client cancelling the call
   * (or its deadline passing) cancels the future.
   */
  static <T> void answer(StreamObserver<T> out, Supplier<CompletableFuture<T>> call) {
    ServerCallStreamObserver<T> so = (ServerCallStreamObserver<T>) out;
    CompletableFuture<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> pending = f;
    so.setOnCancelHandler(() -> pending.cancel(false));
    f.whenComplete((v, err) -> {
      if (pending.isCancelled()) {
        return; // the client is gone
      }
      try {
        if (err != null) {
          so.onError(GrpcErrors.unmapped(err));
        } else {
          so.onNext(v);
          so.onCompleted();
        }
      } catch (RuntimeException e) {
        // The call ended under us (cancelled): nobody is listening.
      }
    });
  }

  @Override
  public void campaign(CampaignRequest request, StreamObserver<CampaignResponse> out) {
    answer(out, () -> elections.campaign(caller(CAMPAIGN, member), request));
  }

  @Override
  public void proclaim(ProclaimRequest request, StreamObserver<ProclaimResponse> out) {
    answer(out, () -> elections.proclaim(caller(PROCLAIM, member), request));
  }

  @Override
  public void leader(LeaderRequest request, StreamObserver<LeaderResponse> out) {
    answer(out, () -> elections.leader(caller(LEADER, member), request));
  }

  @Override
  public void resign(ResignRequest request, StreamObserver<ResignResponse> out) {
    answer(out, () -> elections.resign(caller(RESIGN, member), request));
  }

  @Override
  public void observe(LeaderRequest request, StreamObserver<LeaderResponse> responses) {
    ServerCallStreamObserver<LeaderResponse> out = (ServerCallStreamObserver<LeaderResponse>) responses;
    ObserveSender sender = new ObserveSender(out);
    out.setOnCancelHandler(sender::cancelled);
    out.setOnReadyHandler(sender::drain);
    if (RequireLeader.required()) {
      watchLeader(sender);
    }
    Observation o = elections.observe(caller(OBSERVE, member), request, sender::drain);
    sender.observation = o;
    if (sender.done) {
      o.close(); // cancelled meanwhile, before the sender knew the observation
      return;
    }
    sender.drain();
  }

  private synchronized void watchLeader(ObserveSender s) {
    requireLeader.add(s);
    if (monitor == null) {
      noLeaderChecks = 0;
      monitor = member.clock().scheduleEvery(member.config().electionTimeout, this::checkLeader);
    }
  }

  private synchronized void forget(ObserveSender s) {
    if (requireLeader.remove(s) && requireLeader.isEmpty() && monitor != null) {
      monitor.cancel();
      monitor = null;
    }
  }

  private void checkLeader() {
    List<ObserveSender> cut;
    synchronized (this) {
      if (member.leader() != 0) {
        noLeaderChecks = 0;
        return;
      }
      if (++noLeaderChecks < NO_LEADER_CHECKS_MAX) {
        return;
      }
      cut = List.copyOf(requireLeader);
    }
    for (ObserveSender s : cut) {
      s.fail(EtcdError.NO_LEADER);
    }
  }

  /**
   * Sends one Observe stream's responses while the transport is ready. Drains run one at a time: a
   * drain asked for while one runs (from the observation's hook, the transport's ready handler, or
   * within the running drain itself) makes the running one go round again.
   */
  private final class ObserveSender {
    private final ServerCallStreamObserver<LeaderResponse> out;
    private final AtomicInteger drains = new AtomicInteger();
    /** Set before the first drain; read only by drains. */
    volatile Observation observation;
    /** The error to cut the stream with (the leader check), null while there is none. */
    private volatile EtcdError failure;
    volatile boolean done;

    ObserveSender(ServerCallStreamObserver<LeaderResponse> out) {
      this.out = out;
    }

    void drain() {
      if (drains.getAndIncrement() != 0) {
        return;
      }
      do {
        step();
      } while (drains.decrementAndGet() != 0);
    }

    private void step() {
      Observation o = observation;
      if (o == null || done) {
        return;
      }
      try {
        if (failure != null) {
          end();
          out.onError(GrpcErrors.status(failure).asRuntimeException());
          return;
        }
        while (out.isReady()) {
          LeaderResponse r = o.poll();
          if (r == null) {
            break;
          }
          out.onNext(r);
        }
        if (o.finished()) {
          // etcd's Observe returns nil once its observation ends: the stream ends with OK.
          end();
          out.onCompleted();
        }
      } catch (RuntimeException e) {
        // The call ended under us (cancelled).
        end();
      }
    }

    /** Cuts the stream with {@code e} (from the leader check). */
    void fail(EtcdError e) {
      failure = e;
      drain();
    }

    void cancelled() {
      done = true;
      Observation o = observation;
      if (o != null) {
        o.close();
      }
      forget(this);
    }

    private void end() {
      done = true;
      observation.close();
      forget(this);
    }
  }
}
