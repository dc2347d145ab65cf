package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.LeaderKey;
import io.kvorum.proto.v3electionpb.LeaderRequest;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimRequest;
import io.kvorum.proto.v3electionpb.ProclaimResponse;
import io.kvorum.proto.v3electionpb.ResignRequest;
import io.kvorum.proto.v3electionpb.ResignResponse;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.KvServer;
import io.kvorum.server.etcdserver.LeaseServer;
import io.kvorum.server.watch.WatchHub;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Election service ({@code etcdserver/api/v3election}): elections among the keys under
 * {@code name/}, the oldest of which leads. Every call runs etcd's client-side recipe on the
 * member's own services as the caller ({@link MemberClient}); futures fail with {@link
 * io.kvorum.server.errors.EtcdException}s, which etcd sends unmapped (UNKNOWN, with their text).
 *
 * <p>As in etcd, a call that names lease 0 (Campaign, and also Proclaim and Resign, whose session
 * etcd opens the same way) first gets a new lease of {@link #SESSION_TTL_SECONDS} that nothing keeps
 * alive.
 */
public final class Elections {
  /** The TTL of the lease a call naming lease 0 is given (clientv3/concurrency's default session TTL). */
  public static final long SESSION_TTL_SECONDS = 60;

  private final Services services;

  public Elections(KvServer kv, LeaseServer leases, AuthServer auth, WatchHub hub) {
    this.services = new Services(kv, leases, auth, hub);
  }

  /**
   * Becomes a candidate and completes once it leads (see {@link Campaign}); cancelling the future
   * stops waiting and resigns.
   */
  public CompletableFuture<CampaignResponse> campaign(Caller caller, CampaignRequest r) {
    return new Campaign(services.as(caller), services.background(caller), r).start();
  }

  /** Sets the leader's value, if {@code leader} still names the key of the same creation. */
  public CompletableFuture<ProclaimResponse> proclaim(Caller caller, ProclaimRequest r) {
    if (!r.hasLeader()) {
      return CompletableFuture.failedFuture(EtcdError.ELECTION_MISSING_LEADER_KEY.exception());
    }
    LeaderKey l = r.getLeader();
    MemberClient c = services.as(caller);
    return session(c, l.getLease()).thenCompose(lease -> c.txn(proclaimTxn(l.getKey(), l.getRev(), r.getValue(), lease)))
        .thenApply(t -> {
          if (!t.getSucceeded()) {
            throw EtcdError.ELECTION_NOT_LEADER.exception();
          }
          return ProclaimResponse.newBuilder().setHeader(t.getHeader()).build();
        });
  }

  /** Deletes the leader's key if it is still of the same creation; answers the same either way. */
  public CompletableFuture<ResignResponse> resign(Caller caller, ResignRequest r) {
    if (!r.hasLeader()) {
      return CompletableFuture.failedFuture(EtcdError.ELECTION_MISSING_LEADER_KEY.exception());
    }
    LeaderKey l = r.getLeader();
    MemberClient c = services.as(caller);
    return session(c, l.getLease()).thenCompose(lease -> c.txn(resignTxn(l.getKey(), l.getRev())))
        .thenApply(t -> ResignResponse.newBuilder().setHeader(t.getHeader()).build());
  }

  /** The oldest key under {@code name/}, or {@code election: no leader}. */
  public CompletableFuture<LeaderResponse> leader(Caller caller, LeaderRequest r) {
    return services.as(caller).range(ElectionKeys.oldest(ElectionKeys.prefix(r.getName()))).thenApply(resp -> {
      if (resp.getKvsCount() == 0) {
        throw EtcdError.ELECTION_NO_LEADER.exception();
      }
      return LeaderResponse.newBuilder().setHeader(resp.getHeader()).setKv(resp.getKvs(0)).build();
    });
  }

  /**
   * Starts observing the leader of {@code name/} (see {@link Observation}); {@code sendable} runs
   * whenever responses wait or the observation ended.
   */
  public Observation observe(Caller caller, LeaderRequest r, Runnable sendable) {
    Observation o = new Observation(services.as(caller), ElectionKeys.prefix(r.getName()), sendable);
    o.start();
    return o;
  }

  // ---------------------------------------------------------------- shared by the recipes

  /** etcd's session: the lease named, or a new one for lease 0. */
  static CompletableFuture<Long> session(MemberClient c, long lease) {
    return lease == 0 ? c.grant(SESSION_TTL_SECONDS) : CompletableFuture.completedFuture(lease);
  }

  /** {@code key}'s create revision is {@code rev} (0: the key does not exist). */
  static Compare createRevision(ByteString key, long rev) {
    return Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
        .setResult(Compare.CompareResult.EQUAL).setCreateRevision(rev).build();
  }

  static TxnRequest proclaimTxn(ByteString key, long rev, ByteString value, long lease) {
    return TxnRequest.newBuilder().addCompare(createRevision(key, rev)).addSuccess(RequestOp.newBuilder()
        .setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value).setLease(lease))).build();
  }

  static TxnRequest resignTxn(ByteString key, long rev) {
    return TxnRequest.newBuilder().addCompare(createRevision(key, rev)).addSuccess(RequestOp.newBuilder()
        .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(key))).build();
  }
}
