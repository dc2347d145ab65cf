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
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.watch.WatchStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leases on three real members whose lease clock is a fake one the test moves: expiry, keep-alive
 * forwarded from a follower, revocation deleting keys in one revision that watchers see, and a
 * checkpointed TTL surviving a leader change. Raft ticks in real time; the lease duties are run
 * right after each clock step ({@link EtcdServer#leaseDutiesNow}), so nothing waits on timing.
 */
class LeaseClusterTest {
  static final long S = 1_000_000_000L;
  static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

  @TempDir Path dir;
  final AtomicLong clock = new AtomicLong(1_000 * S);
  final Map<String, EtcdServer> members = new LinkedHashMap<>();

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void startCluster() throws IOException {
    List<String> names = List.of("m1", "m2", "m3");
    Map<String, Integer> ports = new LinkedHashMap<>();
    StringBuilder cluster = new StringBuilder();
    for (String n : names) {
      ports.put(n, freePort());
      cluster.append(cluster.length() == 0 ? "" : ",").append(n).append("=http://127.0.0.1:").append(ports.get(n));
    }
    for (String n : names) {
      ServerConfig.Builder b = ServerConfig.builder();
      b.name = n;
      b.dataDir = dir.resolve(n);
      URI peer = URI.create("http://127.0.0.1:" + ports.get(n));
      b.listenPeerUrls = List.of(peer);
      b.initialAdvertisePeerUrls = List.of(peer);
      b.initialCluster = cluster.toString();
      b.heartbeatIntervalMs = 50;
      b.electionTimeoutMs = 500;
      b.nanoClock = clock::get;
      b.leaseCheckpointInterval = Duration.ofSeconds(5);
      members.put(n, EtcdServer.start(b.build()));
    }
  }

  @AfterEach
  void stop() throws IOException {
    for (EtcdServer s : members.values()) {
      s.close();
    }
  }

  private static void await(String what, BooleanSupplier cond) {
    long deadline = System.nanoTime() + WAIT_NANOS;
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  /** The leader once its lessor has been promoted. */
  private EtcdServer leader() {
    EtcdServer[] found = {null};
    await("a leader with a promoted lessor", () -> {
      for (EtcdServer s : members.values()) {
        if (s.raftStatus().isLeader() && s.lessor().isPrimary()) {
          found[0] = s;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  private EtcdServer follower(EtcdServer leader) {
    return members.values().stream().filter(s -> s != leader).findFirst().orElseThrow();
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

  @Test
  void expiryAndRevoke_deleteEveryAttachedKeyInOneRevision_seenByAFollowersWatcher() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    EtcdServer follower = follower(leader);
    long expiring = get(leader.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(5).build())).getID();
    long revoked = get(follower.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(100).build())).getID();
    for (String k : List.of("e/1", "e/2")) {
      get(leader.put(PutRequest.newBuilder().setKey(b(k)).setValue(b("v")).setLease(expiring).build()));
    }
    for (String k : List.of("r/1", "r/2", "r/3")) {
      get(follower.put(PutRequest.newBuilder().setKey(b(k)).setValue(b("v")).setLease(revoked).build()));
    }
    WatchStream ws = follower.watchHub().openStream();
    ws.create(WatchCreateRequest.newBuilder().setKey(b("")).setRangeEnd(b("\0")).build());
    await("the follower applied every put", () -> follower.lessor().keys(revoked).size() == 3);
    assertThat(poll(ws, 1).get(0).getCreated()).isTrue();

    long revokeRev = get(follower.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(revoked).build()))
        .getHeader().getRevision();
    WatchResponse r = poll(ws, 1).get(0);
    assertThat(r.getHeader().getRevision()).isEqualTo(revokeRev);
    assertThat(r.getEventsList()).extracting(e -> e.getType() + " " + e.getKv().getKey().toStringUtf8())
        .containsExactly("DELETE r/1", "DELETE r/2", "DELETE r/3");

    clock.addAndGet(4 * S);
    get(leader.leaseDutiesNow());
    assertThat(leader.lessor().exists(expiring)).as("4 s into a 5 s lease").isTrue();
    clock.addAndGet(S + S / 2);
    get(leader.leaseDutiesNow());
    await("the expired lease is revoked everywhere", () ->
        members.values().stream().noneMatch(s -> s.lessor().exists(expiring)));
    r = poll(ws, 1).get(0);
    assertThat(r.getEventsList()).extracting(e -> e.getType() + " " + e.getKv().getKey().toStringUtf8())
        .containsExactly("DELETE e/1", "DELETE e/2");
    assertThat(r.getEventsList()).extracting(e -> e.getKv().getModRevision())
        .containsOnly(r.getHeader().getRevision());
    assertThat(get(follower.range(RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).build())).getCount())
        .isZero();
    ws.close();
  }

  @Test
  void keepAliveFromAFollower_isForwardedToTheLeader_andHoldsTheLease() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    EtcdServer follower = follower(leader);
    long id = get(follower.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(5).build())).getID();
    for (int i = 0; i < 5; i++) {
      clock.addAndGet(3 * S);
      assertThat(get(follower.leaseRenew(id)).getTTL()).isEqualTo(5);
      get(leader.leaseDutiesNow());
    }
    assertThat(leader.lessor().exists(id)).as("renewed every 3 s for 15 s").isTrue();
    LeaseTimeToLiveResponse ttl = get(follower.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).build()));
    assertThat(ttl.getGrantedTTL()).isEqualTo(5);
    assertThat(ttl.getTTL()).isBetween(4L, 5L);
    assertThat(get(follower.leaseRenew(12345)).getTTL()).as("unknown lease").isZero();
    assertThat(get(follower.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(12345).build())).getTTL())
        .isEqualTo(-1);
    clock.addAndGet(6 * S);
    get(leader.leaseDutiesNow());
    await("the lease expires once renewals stop", () -> !follower.lessor().exists(id));
    assertThat(get(follower.leaseRenew(id)).getTTL()).isZero();
  }

  @Test
  void checkpointedTtl_survivesALeaderChange_insteadOfResetting() throws Exception {
    startCluster();
    EtcdServer leader = leader();
    long id = get(leader.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build())).getID();
    for (int i = 0; i < 4; i++) {
      clock.addAndGet(5 * S);
      get(leader.leaseDutiesNow());
    }
    await("every member recorded the checkpoint at 40 s left", () ->
        members.values().stream().allMatch(s -> s.lessor().record(id) != null && s.lessor().record(id)[1] == 40));
    String old = members.entrySet().stream().filter(e -> e.getValue() == leader).findFirst().orElseThrow().getKey();
    members.remove(old).close();
    EtcdServer next = leader();
    long ttl = get(next.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).build())).getTTL();
    // 40 s checkpointed + one election timeout (0.5 s) of extension; without checkpoints 60 s.
    assertThat(ttl).isBetween(39L, 41L);
  }
}
