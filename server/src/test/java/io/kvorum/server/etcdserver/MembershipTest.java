package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.server.membership.Member;
import io.kvorum.server.testing.LocalCluster;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Membership changes on real members: learners catching up by snapshot, promotion, removal, errors. */
class MembershipTest {
  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v)).build();
  }

  /**
   * Runs a reconfiguration, again while the strict check says the cluster is unhealthy (this
   * member has not been connected to every voter for 5 s yet), as an operator would.
   */
  /** A membership change, once the strict reconfiguration check sees every peer healthy. */
  private <T> T whenHealthy(LocalCluster.Attempt<CompletableFuture<T>> call) {
    return cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL, call);
  }

  private static Throwable cause(CompletableFuture<?> f) throws Exception {
    try {
      f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void learner_catchesUpBySnapshot_underWrites_isPromoted_thenAnOldMemberIsRemoved_nothingLost() throws Exception {
    // Snapshots every 50 entries: the learner joins far behind the leader's newest snapshot.
    cluster = LocalCluster.start(dir, 3, b -> b.snapshotCount = 50);
    EtcdServer leader = cluster.leader(s -> true);
    for (int i = 0; i < 300; i++) {
      leader.kv().put(RequestContext.of("test"), put("pre" + i, "v" + i)).get(20, TimeUnit.SECONDS);
    }

    // Writes keep going through a follower for the whole reconfiguration.
    EtcdServer writer = cluster.other(leader);
    Map<String, String> acked = new ConcurrentHashMap<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      for (int i = 0; writing.get() && i < 100_000; i++) {
        String k = "load" + i;
        try {
          writer.kv().put(RequestContext.of("test"), put(k, "v" + i)).get(20, TimeUnit.SECONDS);
          acked.put(k, "v" + i);
        } catch (Exception e) {
          // Failures are allowed (etcd errors); only acknowledged writes must survive.
        }
      }
    }, "test-load");
    load.start();

    URI url = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    MemberAdded added = whenHealthy(() -> leader.memberAdd(RequestContext.of("test"), List.of(url.toString()), true));
    assertThat(added.member().isLearner()).isTrue();
    assertThat(added.members()).extracting(Member::id).contains(added.member().id());
    // At most one learner (etcd 3.4).
    assertThat(cause(leader.memberAdd(RequestContext.of("test"), List.of("http://127.0.0.1:1"), true)))
        .hasMessage("etcdserver: too many learner members in cluster");
    // A peer URL another member has (the same URLs in the same second would be the same id).
    assertThat(cause(leader.memberAdd(RequestContext.of("test"), List.of(url.toString(), "http://127.0.0.1:2"), false)))
        .hasMessage("etcdserver: Peer URLs already exists");

    EtcdServer learner = cluster.join("m4", url, b -> b.snapshotCount = 50);
    assertThat(learner.memberId()).isEqualTo(added.member().id());
    LocalCluster.await("the learner catches up", () ->
        learner.raftStatus().hardState().commit() > 300 && learner.isLearner()
            && learner.appliedIndex() >= leader.appliedIndex() - 20);
    // It caught up from a snapshot of the leader's (the log before it is gone), then from the log.
    assertThat(learner.snapshotIndex()).isGreaterThanOrEqualTo(50);
    RangeResponse pre = learner.kv().range(RequestContext.of("test"), RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("pre299"))
        .setSerializable(true).build()).get(20, TimeUnit.SECONDS);
    assertThat(pre.getKvs(0).getValue().toStringUtf8()).isEqualTo("v299");

    // Through gRPC, a learner serves Status and serializable ranges only (etcd 3.4).
    io.kvorum.server.api.ClientServer api = io.kvorum.server.api.ClientServer.start(learner,
        List.of(URI.create("http://127.0.0.1:0")));
    io.grpc.ManagedChannel ch = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress("127.0.0.1", api.ports().get(0)).usePlaintext().build();
    try {
      var kv = io.kvorum.proto.etcdserverpb.KVGrpc.newBlockingStub(ch);
      assertThat(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("pre1")).setSerializable(true).build())
          .getKvs(0).getValue().toStringUtf8()).isEqualTo("v1");
      String refused = "UNAVAILABLE: etcdserver: rpc not supported for learner";
      assertThatThrownBy(() -> kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("pre1")).build()))
          .hasMessage(refused);
      assertThatThrownBy(() -> kv.put(put("k", "v"))).hasMessage(refused);
      assertThatThrownBy(() -> io.kvorum.proto.etcdserverpb.ClusterGrpc.newBlockingStub(ch)
          .memberList(io.kvorum.proto.etcdserverpb.MemberListRequest.getDefaultInstance())).hasMessage(refused);
      io.kvorum.proto.etcdserverpb.StatusResponse st = io.kvorum.proto.etcdserverpb.MaintenanceGrpc.newBlockingStub(ch)
          .status(io.kvorum.proto.etcdserverpb.StatusRequest.getDefaultInstance());
      assertThat(st.getIsLearner()).isTrue();
      assertThat(st.getLeader()).isNotZero();
      assertThat(st.getRaftAppliedIndex()).isGreaterThan(300);
    } finally {
      ch.shutdownNow();
      api.close();
    }

    // Promotion is decided by the leader; a follower forwards it there. Retry while not in sync.
    EtcdServer current = cluster.leader(s -> true);
    List<Member> promoted = LocalCluster.until("the learner is promoted",
        () -> writer.memberPromote(RequestContext.of("test"), learner.memberId()).get(20, TimeUnit.SECONDS),
        t -> "etcdserver: can only promote a learner member which is in sync with leader".equals(t.getMessage()));
    assertThat(promoted).isNotNull();
    assertThat(promoted.stream().filter(m -> m.id() == learner.memberId()).findFirst().orElseThrow().isLearner())
        .isFalse();
    assertThat(cause(current.memberPromote(RequestContext.of("test"), learner.memberId())))
        .hasMessage("etcdserver: can only promote a learner member");
    LocalCluster.await("the new voter is a voter in raft", () ->
        cluster.leader(s -> true).raftStatus().config().voters().contains(learner.memberId()));

    // Remove the member that is not the writer: it stops itself once it applied its removal.
    EtcdServer victim = cluster.members().values().stream()
        .filter(s -> s != writer && s != learner).findFirst().orElseThrow();
    List<Member> after = whenHealthy(() -> writer.memberRemove(RequestContext.of("test"), victim.memberId()));
    assertThat(after).extracting(Member::id).doesNotContain(victim.memberId());
    assertThat(victim.terminated().get(20, TimeUnit.SECONDS)).contains("removed");
    cluster.members().values().remove(victim);
    // The victim may have been the leader: a new one is elected, proposals meanwhile fail as etcd's do.
    java.util.Set<String> transientErrors = java.util.Set.of("etcdserver: request timed out",
        "etcdserver: leader changed", "etcdserver: no leader");
    Throwable again = LocalCluster.until("a leader answers the second removal", () -> {
      Throwable t = cause(writer.memberRemove(RequestContext.of("test"), victim.memberId()));
      if (transientErrors.contains(t.getMessage())) {
        throw new ExecutionException(t);
      }
      return t;
    }, t -> transientErrors.contains(t.getMessage()));
    assertThat(again).hasMessage("etcdserver: member not found");

    // Writes go on after the reconfiguration before the load stops.
    int before = acked.size();
    LocalCluster.await("writes acknowledged after the reconfiguration", () -> acked.size() >= before + 20);
    writing.set(false);
    load.join(60_000);
    assertThat(acked).isNotEmpty();

    // Every member agrees: same revision, same hash, every acknowledged write present.
    long rev = writer.kv().put(RequestContext.of("test"), put("last", "x")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("member " + s.memberId() + " applies revision " + rev, () -> s.header().getRevision() >= rev);
    }
    List<Integer> hashes = new ArrayList<>();
    for (EtcdServer s : cluster.members().values()) {
      hashes.add(s.hashKv(RequestContext.of("test"), rev).get(20, TimeUnit.SECONDS).getHash());
      RangeResponse all = s.kv().range(RequestContext.of("test"), RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("load"))
          .setRangeEnd(ByteString.copyFromUtf8("loae")).setSerializable(true).build()).get(20, TimeUnit.SECONDS);
      Map<String, String> seen = new java.util.HashMap<>();
      all.getKvsList().forEach(kv -> seen.put(kv.getKey().toStringUtf8(), kv.getValue().toStringUtf8()));
      assertThat(seen).containsAllEntriesOf(acked);
      assertThat(s.membership().list()).hasSize(3);
    }
    assertThat(hashes).containsOnly(hashes.get(0));
  }

  @Test
  void updatedPeerUrl_membersReconnect_andKeepReplicating() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer[] members = cluster.members().values().stream().filter(s -> s != leader).toArray(EtcdServer[]::new);
    // A member that is down moves (before any other membership change): it learns of the change
    // from the log after restarting at the new URL with a different --initial-cluster, which a
    // restart ignores (its data holds the membership since its first start).
    EtcdServer down = members[1];
    String downName = nameOf(down);
    cluster.stop(down);
    URI url2 = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    leader.memberUpdate(RequestContext.of("test"), down.memberId(), List.of(url2.toString())).get(20, TimeUnit.SECONDS);
    EtcdServer back2 = cluster.restartAt(downName, url2);
    // A member that is up moves: the others follow its new URL, then it restarts there.
    URI url1 = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    leader.memberUpdate(RequestContext.of("test"), members[0].memberId(), List.of(url1.toString())).get(20, TimeUnit.SECONDS);
    assertThat(leader.membership().get(members[0].memberId()).peerUrls()).containsExactly(url1.toString());
    EtcdServer back1 = moveTo(members[0], url1);
    long rev = leader.kv().put(RequestContext.of("test"), put("after-move", "v")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
    for (EtcdServer s : List.of(back1, back2)) {
      LocalCluster.await("the moved member replicates", () -> s.header().getRevision() >= rev);
      assertThat(s.membership().list()).hasSize(3);
    }
    // Both moved members talk to each other too: with the leader gone, they elect one of them.
    cluster.stop(leader);
    EtcdServer next = cluster.leader(s -> true);
    assertThat(next.kv().put(RequestContext.of("test"), put("after-leader", "v")).get(20, TimeUnit.SECONDS).getHeader().getRevision()).isEqualTo(rev + 1);
    assertThat(cause(next.memberUpdate(RequestContext.of("test"), 12345, List.of("http://127.0.0.1:9")))).hasMessage("etcdserver: member not found");
    assertThat(cause(next.memberUpdate(RequestContext.of("test"), down.memberId(), List.of("ftp://x"))))
        .hasMessage("etcdserver: given member URLs are invalid");
  }

  private String nameOf(EtcdServer m) {
    return cluster.members().entrySet().stream().filter(e -> e.getValue() == m).findFirst().orElseThrow().getKey();
  }

  private EtcdServer moveTo(EtcdServer m, URI url) throws Exception {
    String name = nameOf(m);
    cluster.stop(m);
    return cluster.restartAt(name, url);
  }

  @Test
  void memberRemovedWhileDown_stopsItselfWhenItComesBack() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer down = cluster.other(leader);
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == down).findFirst()
        .orElseThrow().getKey();
    cluster.stop(down);
    // A member that is down is not part of the active quorum: removing it passes the strict check.
    whenHealthy(() -> leader.memberRemove(RequestContext.of("test"), down.memberId()));
    EtcdServer back = cluster.restart(name);
    // Its peers refuse it as removed; it stops itself (it never applied its own removal).
    assertThat(back.terminated().get(20, TimeUnit.SECONDS)).contains("removed");
    cluster.members().remove(name);
    assertThat(leader.membership().isRemoved(down.memberId())).isTrue();
    assertThat(leader.membership().get(down.memberId())).isNull();
  }

  @Test
  void membershipAndRefusedChanges_surviveACrashOfEveryMember() throws Exception {
    // Snapshots every 20 entries: the restart replays changes both before and after a snapshot.
    cluster = LocalCluster.start(dir, 3, b -> {
      b.snapshotCount = 20;
      b.strictReconfigCheck = false;
    });
    EtcdServer leader = cluster.leader(s -> true);
    String taken = leader.membership().get(leader.memberId()).peerUrls().get(0);
    // Up to just after a snapshot: the changes below are in the log after it, so every member
    // replays them on restart and must decide them as before.
    for (int i = 0; leader.appliedIndex() - leader.snapshotIndex() != 1 || i < 30; i++) {
      leader.kv().put(RequestContext.of("test"), put("k" + i, "v")).get(20, TimeUnit.SECONDS);
    }
    // Refused at apply time, so a no-op for raft: a voter whose URL another member has.
    assertThat(cause(leader.memberAdd(RequestContext.of("test"), List.of(taken, "http://127.0.0.1:3"), false)))
        .hasMessage("etcdserver: Peer URLs already exists");
    MemberAdded learner = leader.memberAdd(RequestContext.of("test"), List.of("http://127.0.0.1:4"), true).get(20, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      leader.kv().put(RequestContext.of("test"), put("k" + i, "w")).get(20, TimeUnit.SECONDS);
    }
    long rev = leader.header().getRevision();
    String leaderName = cluster.members().entrySet().stream().filter(e -> e.getValue() == leader).findFirst()
        .orElseThrow().getKey();
    List<String> names = new ArrayList<>(cluster.members().keySet());
    for (String n : names) {
      cluster.stop(cluster.members().get(n));
    }
    for (String n : names) {
      cluster.restart(n);
    }
    EtcdServer again = cluster.leader(s -> true);
    // The changes are after the old leader's newest snapshot (taken just before them, above): it
    // replayed them. A follower snapshots at its own points, which may fall after the changes (then
    // it restarted from a snapshot holding them, the other path this test covers).
    EtcdServer replayed = cluster.members().get(leaderName);
    assertThat(replayed.snapshotIndex()).isLessThan(replayed.appliedIndex() - 4);
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("the membership is back", () -> s.membership().list().size() == 4);
      assertThat(s.membership().get(learner.member().id()).isLearner()).isTrue();
    }
    LocalCluster.await("raft has the same configuration", () -> {
      io.kvorum.raft.ConfState cs = again.raftStatus().config();
      return cs.voters().size() == 3 && cs.learners().size() == 1 && cs.learners().contains(learner.member().id());
    });
    // Writes still commit with the three voters (a refused voter in raft would make it four).
    assertThat(again.kv().put(RequestContext.of("test"), put("after", "v")).get(20, TimeUnit.SECONDS).getHeader().getRevision()).isEqualTo(rev + 1);
  }

  @Test
  void removingTheLeader_itStops_theOthersGoOn() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer follower = cluster.other(leader);
    List<Member> left = whenHealthy(() -> follower.memberRemove(RequestContext.of("test"), leader.memberId()));
    assertThat(left).hasSize(2).extracting(Member::id).doesNotContain(leader.memberId());
    assertThat(leader.terminated().get(20, TimeUnit.SECONDS)).contains("removed");
    cluster.members().values().remove(leader);
    EtcdServer next = cluster.leader(s -> true);
    assertThat(next.memberId()).isNotEqualTo(leader.memberId());
    long rev = follower.kv().put(RequestContext.of("test"), put("after", "v")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("the write reaches " + s.memberId(), () -> s.header().getRevision() >= rev);
      assertThat(s.membership().list()).hasSize(2);
      assertThat(s.raftStatus().config().voters()).hasSize(2);
    }
  }

  @Test
  void laggingFollower_catchesUpBySnapshot_itsWatcherSeesEveryRevision() throws Exception {
    // The leader keeps 5,000 entries behind its snapshots: a follower further behind needs one.
    cluster = LocalCluster.start(dir, 3, b -> b.snapshotCount = 500);
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer lagging = cluster.other(leader);
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == lagging).findFirst()
        .orElseThrow().getKey();
    leader.kv().put(RequestContext.of("test"), put("w", "0")).get(20, TimeUnit.SECONDS);
    LocalCluster.await("the follower has the first write", () -> lagging.header().getRevision() >= 2);
    cluster.stop(lagging);
    int n = 6_000;
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      writes.add(leader.kv().put(RequestContext.of("test"), put("w", Integer.toString(i))));
      if (writes.size() == 256) {
        for (CompletableFuture<?> w : writes) {
          w.get(20, TimeUnit.SECONDS);
        }
        writes.clear();
      }
    }
    for (CompletableFuture<?> w : writes) {
      w.get(20, TimeUnit.SECONDS);
    }
    long last = leader.header().getRevision();
    EtcdServer back = cluster.restart(name);
    long from = back.header().getRevision() + 1;
    io.kvorum.server.watch.WatchStream ws = back.watchHub().openStream();
    ws.create(io.kvorum.proto.etcdserverpb.WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("w"))
        .setStartRevision(from).build());
    LocalCluster.await("the follower catches up", () -> back.header().getRevision() >= last);
    assertThat(back.snapshotIndex()).isGreaterThan(1);
    List<Long> revs = new ArrayList<>();
    LocalCluster.await("the watcher gets every revision up to " + last, () -> {
      // poll() hands out one response at a time.
      for (List<io.kvorum.proto.etcdserverpb.WatchResponse> rs = ws.poll(); !rs.isEmpty(); rs = ws.poll()) {
        for (io.kvorum.proto.etcdserverpb.WatchResponse r : rs) {
          assertThat(r.getCanceled()).isFalse();
          r.getEventsList().forEach(e -> revs.add(e.getKv().getModRevision()));
        }
      }
      return !revs.isEmpty() && revs.get(revs.size() - 1) >= last;
    });
    List<Long> expected = java.util.stream.LongStream.rangeClosed(from, last).boxed().toList();
    assertThat(revs).isEqualTo(expected);
    assertThat(back.hashKv(RequestContext.of("test"), last).get(20, TimeUnit.SECONDS).getHash())
        .isEqualTo(leader.hashKv(RequestContext.of("test"), last).get(20, TimeUnit.SECONDS).getHash());
    ws.close();
  }

  @Test
  void strictChecks_refuseAddingAVoterWhenAMemberIsDown() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    cluster.stop(cluster.other(leader));
    assertThat(cause(leader.memberAdd(RequestContext.of("test"), List.of("http://127.0.0.1:1"), false))).hasMessage("etcdserver: unhealthy cluster");
    assertThatThrownBy(() -> leader.memberRemove(RequestContext.of("test"), leader.memberId()).get(20, TimeUnit.SECONDS))
        .hasMessageContaining("etcdserver: unhealthy cluster");
  }
}
