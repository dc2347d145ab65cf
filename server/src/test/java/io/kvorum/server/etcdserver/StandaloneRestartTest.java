package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.server.membership.Member;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --force-new-cluster}: one surviving member of three becomes a cluster of its own, with its data. */
class StandaloneRestartTest {
  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v)).build();
  }

  private static RangeResponse get(EtcdServer s, String k) {
    return LocalCluster.until("a linearizable read on " + Long.toHexString(s.memberId()),
        () -> s.kv().range(RequestContext.of("test"), RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(k))
            .build()).get(20, TimeUnit.SECONDS), t -> true);
  }

  @Test
  void forceNewCluster_twoOfThreeLost_survivorServesAloneWithItsData() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    for (int i = 0; i < 20; i++) {
      leader.kv().put(RequestContext.of("test"), put("k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
    }
    EtcdServer survivor = cluster.members().get("m3");
    assertThat(get(survivor, "k19").getKvs(0).getValue().toStringUtf8()).isEqualTo("v19");
    long clusterId = survivor.clusterId();
    long survivorId = survivor.memberId();
    for (EtcdServer s : List.copyOf(cluster.members().values())) {
      cluster.stop(s);
    }

    EtcdServer alone = cluster.restart("m3", b -> b.forceNewCluster = true);

    LocalCluster.await("the survivor leads alone", () -> alone.raftStatus().isLeader());
    alone.kv().put(RequestContext.of("test"), put("after", "recovery")).get(20, TimeUnit.SECONDS);
    assertThat(get(alone, "k0").getKvs(0).getValue().toStringUtf8()).isEqualTo("v0");
    assertThat(get(alone, "after").getKvs(0).getValue().toStringUtf8()).isEqualTo("recovery");
    assertThat(alone.members()).extracting(Member::id).containsExactly(survivorId);
    assertThat(alone.clusterId()).isEqualTo(clusterId);
    assertThat(alone.raftStatus().config().voters()).containsExactly(survivorId);
    assertThat(alone.raftStatus().config().learners()).isEmpty();
  }

  @Test
  void forceNewCluster_thenPlainRestart_staysAOneMemberCluster() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    cluster.leader(s -> true).kv().put(RequestContext.of("test"), put("a", "1")).get(20, TimeUnit.SECONDS);
    EtcdServer m1 = cluster.members().get("m1");
    get(m1, "a");
    long id = m1.memberId();
    for (EtcdServer s : List.copyOf(cluster.members().values())) {
      cluster.stop(s);
    }
    EtcdServer forced = cluster.restart("m1", b -> b.forceNewCluster = true);
    LocalCluster.await("the forced member leads", () -> forced.raftStatus().isLeader());
    forced.kv().put(RequestContext.of("test"), put("b", "2")).get(20, TimeUnit.SECONDS);
    cluster.stop(forced);

    EtcdServer again = cluster.restart("m1", b -> b.forceNewCluster = false);

    LocalCluster.await("the member leads after a plain restart", () -> again.raftStatus().isLeader());
    assertThat(again.members()).extracting(Member::id).containsExactly(id);
    assertThat(get(again, "a").getKvs(0).getValue().toStringUtf8()).isEqualTo("1");
    assertThat(get(again, "b").getKvs(0).getValue().toStringUtf8()).isEqualTo("2");
  }
}
