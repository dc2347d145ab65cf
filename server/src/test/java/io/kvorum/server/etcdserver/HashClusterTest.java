package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance.Hash on real members: stable without writes, moved by every kind of write, equal on
 * every member once they applied the same entries (also one restarted, and one whose backend came
 * from the leader with a snapshot), with the revision of the hashed snapshot in the header. The
 * lease clock is a fake one that never moves, so no lease expires or checkpoints meanwhile.
 */
class HashClusterTest {
  private static final long TIMEOUT_SECONDS = 20;

  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  private void startCluster(long snapshotCount) throws IOException {
    cluster = LocalCluster.start(dir, 3, b -> {
      b.snapshotCount = snapshotCount;
    });
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(b(k)).setValue(b(v)).build();
  }

  /**
   * Waits until every member applied everything any member knows to be committed (which covers a
   * write whose answer came back: its member applied it, so it was committed there), then hashes
   * each; asserts that they agree on hash and revision, that each header is filled as etcd fills
   * it, and that its revision is the member's current one.
   */
  private HashResponse hashOnEveryMember() throws Exception {
    // The hash covers the consistent index: an entry committed meanwhile (a member publishing its
    // URLs, say) and applied by some members only makes them differ. Hash again until every
    // member hashed at the same applied index.
    for (int attempt = 0; attempt < 20; attempt++) {
      Map<Long, HashResponse> byMember = hashEach();
      if (byMember != null) {
        return agreeing(byMember);
      }
    }
    throw new AssertionError("the members never hashed at one applied index in 20 attempts");
  }

  /** One hash per member once each applied what any knows committed; null if they hashed at different indexes. */
  private Map<Long, HashResponse> hashEach() throws Exception {
    // The commit index, not the applied one: a member answers a write before it publishes the
    // entry's index as applied.
    long target = cluster.members().values().stream()
        .mapToLong(s -> s.raftStatus().hardState().commit()).max().orElseThrow();
    Map<Long, HashResponse> byMember = new LinkedHashMap<>();
    java.util.Set<Long> applied = new java.util.HashSet<>();
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("member " + Long.toHexString(s.memberId()) + " applies " + target,
          () -> s.appliedIndex() >= target);
      long before = s.appliedIndex();
      HashResponse h = get(s.hash(RequestContext.of("test")));
      if (s.appliedIndex() != before) {
        return null;
      }
      applied.add(before);
      assertThat(h.getHeader().getRevision()).as("header revision").isEqualTo(s.header().getRevision());
      assertThat(h.getHeader().getMemberId()).isEqualTo(s.memberId());
      assertThat(h.getHeader().getClusterId()).isEqualTo(s.clusterId()).isNotZero();
      assertThat(h.getHeader().getRaftTerm()).isPositive();
      byMember.put(s.memberId(), h);
    }
    return applied.size() == 1 ? byMember : null;
  }

  private static HashResponse agreeing(Map<Long, HashResponse> byMember) {
    HashResponse first = byMember.values().iterator().next();
    for (Map.Entry<Long, HashResponse> e : byMember.entrySet()) {
      assertThat(e.getValue().getHash()).as("hash on " + Long.toHexString(e.getKey())).isEqualTo(first.getHash());
      assertThat(e.getValue().getHeader().getRevision()).as("revision on " + Long.toHexString(e.getKey()))
          .isEqualTo(first.getHeader().getRevision());
    }
    return first;
  }

  @Test
  void hash_threeMembers_stableWithoutWrites_changedByEveryWrite_equalEverywhere() throws Exception {
    startCluster(100_000);
    EtcdServer leader = cluster.leader(s -> s.lessor().isPrimary());
    EtcdServer follower = cluster.other(leader);

    HashResponse start = hashOnEveryMember();
    assertThat(get(leader.hash(RequestContext.of("test"))).getHash()).as("no write in between").isEqualTo(start.getHash());
    assertThat(get(follower.hash(RequestContext.of("test"))).getHash()).isEqualTo(start.getHash());

    long putRev = get(follower.kv().put(RequestContext.of("test"), put("a", "1"))).getHeader().getRevision();
    HashResponse afterPut = hashOnEveryMember();
    assertThat(afterPut.getHash()).isNotEqualTo(start.getHash());
    assertThat(afterPut.getHeader().getRevision()).isEqualTo(putRev);
    assertThat(get(leader.hash(RequestContext.of("test"))).getHash()).as("no write in between").isEqualTo(afterPut.getHash());

    long deleteRev = get(leader.kv().deleteRange(RequestContext.of("test"), DeleteRangeRequest.newBuilder().setKey(b("a")).build()))
        .getHeader().getRevision();
    HashResponse afterDelete = hashOnEveryMember();
    assertThat(afterDelete.getHash()).isNotEqualTo(afterPut.getHash()).isNotEqualTo(start.getHash());
    assertThat(afterDelete.getHeader().getRevision()).isEqualTo(deleteRev).isEqualTo(putRev + 1);

    // A lease grant writes the lease bucket only: the hash moves, the revision does not.
    get(follower.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setID(7).setTTL(600).build()));
    HashResponse afterGrant = hashOnEveryMember();
    assertThat(afterGrant.getHash()).isNotEqualTo(afterDelete.getHash());
    assertThat(afterGrant.getHeader().getRevision()).isEqualTo(deleteRev);

    // A restarted member re-applies what its backend lacks and hashes the same again.
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == follower)
        .findFirst().orElseThrow().getKey();
    cluster.stop(follower);
    get(leader.kv().put(RequestContext.of("test"), put("b", "2")));
    cluster.restart(name);
    HashResponse afterRestart = hashOnEveryMember();
    assertThat(afterRestart.getHash()).isNotEqualTo(afterGrant.getHash());
  }

  @Test
  void hash_learnerCaughtUpFromTheLeadersBackend_equalsEveryOtherMember() throws Exception {
    // Snapshots every 50 entries: the learner joins far behind the leader's newest snapshot and
    // starts from a copy of the leader's backend.
    startCluster(50);
    EtcdServer leader = cluster.leader(s -> true);
    for (int i = 0; i < 300; i++) {
      get(leader.kv().put(RequestContext.of("test"), put("k" + (i % 20), "v" + i)));
    }
    URI url = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    whenHealthy(() -> leader.memberAdd(RequestContext.of("test"), List.of(url.toString()), true));
    EtcdServer learner = cluster.join("m4", url, b -> {
      b.snapshotCount = 50;
    });
    LocalCluster.await("the learner catches up", () -> learner.isLearner()
        && learner.appliedIndex() >= leader.appliedIndex());
    assertThat(learner.snapshotIndex()).as("caught up from a snapshot").isGreaterThanOrEqualTo(50);
    get(leader.kv().put(RequestContext.of("test"), put("after", "join")));
    HashResponse h = hashOnEveryMember();
    assertThat(cluster.members()).hasSize(4);
    assertThat(h.getHeader().getRevision()).isEqualTo(302);
  }

  /** A membership change, once the strict reconfiguration check sees every peer healthy. */
  private <T> T whenHealthy(LocalCluster.Attempt<CompletableFuture<T>> call) {
    return cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL, call);
  }
}
