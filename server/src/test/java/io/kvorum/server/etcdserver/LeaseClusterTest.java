package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.testing.ClockPump;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.watch.WatchStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leases on three real members whose clock is a fake one the test moves: expiry, keep-alive
 * forwarded from a follower, revocation deleting keys in one revision that watchers see, and a
 * checkpointed TTL surviving a leader change. The clock follows real time (a {@link ClockPump}) until
 * a leader is elected and is held from then on; the lease duties are run
 * right after each clock step ({@link EtcdServer#leaseDutiesNow}), so nothing waits on timing.
 */
class LeaseClusterTest {
  static final long S = 1_000_000_000L;

  @TempDir Path dir;
  FakeClock clock;
  ClockPump pump;
  LocalCluster cluster;

  private void startCluster() throws IOException {
    cluster = LocalCluster.start(dir, 3, b -> {
      b.leaseCheckpointInterval = Duration.ofSeconds(5);
    });
    clock = cluster.clock();
    pump = cluster.pump();
  }

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }

  }

  private static void await(String what, BooleanSupplier cond) {
    LocalCluster.await(what, cond);
  }

  /**
   * The leader once its lessor has been promoted; the clock moves with real time until then and
   * is held afterwards, so lease time moves only when the test moves it.
   */
  private EtcdServer leader() {
    pump.resume();
    EtcdServer l = cluster.leader(s -> s.lessor().isPrimary());
    pump.hold();
    return l;
  }

  private EtcdServer follower(EtcdServer leader) {
    return cluster.other(leader);
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    return f.get(20, TimeUnit.SECONDS);
  }

  /** Collects a watch stream's responses (polling the stream's queue, as the API edge does). */
  private static List<WatchResponse> poll(WatchStream ws, int atLeast) {
    List<WatchResponse> out = new ArrayList<>();
    await(atLeast + " watch responses", () -> {
      out.addAll(ws.poll());
      return out.size() >= atLeast;
    });
    return out;
  }

  /**
   * etcd promotes the lessor when the new leader applies the empty first entry of its term, so a
   * lease granted in that term is never extended by the promotion (it was, when promotion waited
   * for the next tick: a 3 s lease granted right after an election lived 4 s).
   */
  @Test
  void aNewLeaderPromotesItsLessorWithItsFirstEntry_soALeaseGrantedNextExpiresAtItsTtl() throws Exception {
    startCluster();
    pump.resume();
    EtcdServer leader = cluster.leader(s -> true);
    pump.hold();
    await("the leader's lessor is promoted without a tick", () -> leader.lessor().isPrimary());
    long id = get(leader.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(3).build())).getID();
    clock.jump(Duration.ofNanos(2 * S + S / 2));
    get(leader.leaseDutiesNow());
    assertThat(leader.lessor().exists(id)).as("2.5 s into a 3 s lease").isTrue();
    clock.jump(Duration.ofNanos(S));
    get(leader.leaseDutiesNow());
    await("the lease is revoked at its TTL", () -> cluster.members().values().stream().noneMatch(s -> s.lessor().exists(id)));
  }

  @Test
  void expiryAndRevoke_deleteEveryAttachedKeyInOneRevision_seenByAFollowersWatcher() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    EtcdServer follower = follower(leader);
    long expiring = get(leader.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(5).build())).getID();
    long revoked = get(follower.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(100).build())).getID();
    for (String k : List.of("e/1", "e/2")) {
      get(leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(b(k)).setValue(b("v")).setLease(expiring).build()));
    }
    for (String k : List.of("r/1", "r/2", "r/3")) {
      get(follower.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(b(k)).setValue(b("v")).setLease(revoked).build()));
    }
    WatchStream ws = follower.watchHub().openStream();
    ws.create(WatchCreateRequest.newBuilder().setKey(b("")).setRangeEnd(b("\0")).build());
    await("the follower applied every put", () -> follower.lessor().keys(revoked).size() == 3);
    assertThat(poll(ws, 1).get(0).getCreated()).isTrue();

    long revokeRev = get(follower.leases().leaseRevoke(RequestContext.of("test"), LeaseRevokeRequest.newBuilder().setID(revoked).build()))
        .getHeader().getRevision();
    WatchResponse r = poll(ws, 1).get(0);
    assertThat(r.getHeader().getRevision()).isEqualTo(revokeRev);
    assertThat(r.getEventsList()).extracting(e -> e.getType() + " " + e.getKv().getKey().toStringUtf8())
        .containsExactly("DELETE r/1", "DELETE r/2", "DELETE r/3");

    clock.jump(Duration.ofNanos(4 * S));
    get(leader.leaseDutiesNow());
    assertThat(leader.lessor().exists(expiring)).as("4 s into a 5 s lease").isTrue();
    clock.jump(Duration.ofNanos(S + S / 2));
    get(leader.leaseDutiesNow());
    await("the expired lease is revoked everywhere", () ->
        cluster.members().values().stream().noneMatch(s -> s.lessor().exists(expiring)));
    r = poll(ws, 1).get(0);
    assertThat(r.getEventsList()).extracting(e -> e.getType() + " " + e.getKv().getKey().toStringUtf8())
        .containsExactly("DELETE e/1", "DELETE e/2");
    assertThat(r.getEventsList()).extracting(e -> e.getKv().getModRevision())
        .containsOnly(r.getHeader().getRevision());
    assertThat(get(follower.kv().range(RequestContext.of("test"), RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).build())).getCount())
        .isZero();
    ws.close();
  }

  @Test
  void keepAliveFromAFollower_isForwardedToTheLeader_andHoldsTheLease() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    EtcdServer follower = follower(leader);
    long id = get(follower.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(5).build())).getID();
    for (int i = 0; i < 5; i++) {
      clock.jump(Duration.ofNanos(3 * S));
      assertThat(get(follower.leases().leaseRenew(RequestContext.of("test"), id)).getTTL()).isEqualTo(5);
      get(leader.leaseDutiesNow());
    }
    assertThat(leader.lessor().exists(id)).as("renewed every 3 s for 15 s").isTrue();
    LeaseTimeToLiveResponse ttl = get(follower.leases().leaseTimeToLive(RequestContext.of("test"), LeaseTimeToLiveRequest.newBuilder().setID(id).build()));
    assertThat(ttl.getGrantedTTL()).isEqualTo(5);
    assertThat(ttl.getTTL()).isBetween(4L, 5L);
    assertThat(get(follower.leases().leaseRenew(RequestContext.of("test"), 12345)).getTTL()).as("unknown lease").isZero();
    assertThat(get(follower.leases().leaseTimeToLive(RequestContext.of("test"), LeaseTimeToLiveRequest.newBuilder().setID(12345).build())).getTTL())
        .isEqualTo(-1);
    clock.jump(Duration.ofNanos(6 * S));
    get(leader.leaseDutiesNow());
    await("the lease expires once renewals stop", () -> !follower.lessor().exists(id));
    assertThat(get(follower.leases().leaseRenew(RequestContext.of("test"), id)).getTTL()).isZero();
  }

  @Test
  void checkpointedTtl_survivesALeaderChange_insteadOfResetting() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    long id = get(leader.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(60).build())).getID();
    for (int i = 0; i < 4; i++) {
      clock.jump(Duration.ofNanos(5 * S));
      get(leader.leaseDutiesNow());
    }
    await("every member recorded the checkpoint at 40 s left", () ->
        cluster.members().values().stream().allMatch(s -> s.lessor().record(id) != null && s.lessor().record(id)[1] == 40));
    cluster.stop(leader);
    EtcdServer next = leader();
    long ttl = get(next.leases().leaseTimeToLive(RequestContext.of("test"), LeaseTimeToLiveRequest.newBuilder().setID(id).build())).getTTL();
    // 40 s checkpointed + one election timeout (0.5 s) of extension; without checkpoints 60 s.
    assertThat(ttl).isBetween(39L, 41L);
  }

  @Test
  void leasesTheirKeysAndCheckpoints_surviveARestartOfEveryMember() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    long id = get(leader.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(60).build())).getID();
    get(leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(b("kept")).setValue(b("v")).setLease(id).build()));
    clock.jump(Duration.ofNanos(5 * S));
    get(leader.leaseDutiesNow());
    await("the checkpoint is applied everywhere", () ->
        cluster.members().values().stream().allMatch(s -> s.lessor().record(id) != null && s.lessor().record(id)[1] == 55));
    List<String> names = new java.util.ArrayList<>(cluster.members().keySet());
    for (String n : names) {
      cluster.members().get(n).hardStop();
    }
    for (String n : names) {
      cluster.restart(n);
    }
    for (EtcdServer s : cluster.members().values()) {
      assertThat(s.lessor().record(id)).containsExactly(60, 55);
      assertThat(s.lessor().keys(id)).containsExactly(b("kept"));
    }
    EtcdServer next = leader();
    long ttl = get(next.leases().leaseTimeToLive(RequestContext.of("test"), LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(true).build()))
        .getTTL();
    assertThat(ttl).as("counted from the checkpoint, not the full TTL").isBetween(54L, 56L);
  }
}
