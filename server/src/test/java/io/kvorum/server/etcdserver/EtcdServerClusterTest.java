package io.kvorum.server.etcdserver;

import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real members in one JVM on loopback (WAL, RocksDB, gRPC peer transport, real ticker).
 * Bounded by request timeouts; no sleeps.
 */
class EtcdServerClusterTest {
  @TempDir Path dir;
  LocalCluster cluster;
  Map<String, EtcdServer> members;

  private void startCluster() throws IOException {
    cluster = LocalCluster.start(dir, 3, b -> { });
    members = cluster.members();
  }

  private void start(String n) throws IOException {
    cluster.restart(n);
  }

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String leaderName() {
    for (Map.Entry<String, EtcdServer> e : members.entrySet()) {
      if (!e.getValue().isStopped() && e.getValue().raftStatus().isLeader()) {
        return e.getKey();
      }
    }
    return null;
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v)).build();
  }

  /** Retries a put on every live member until one takes it (the client's failover), bounded. */
  private void putWithFailover(String k, String v) {
    LocalCluster.await("a member takes put " + k, () -> {
      for (EtcdServer s : members.values()) {
        try {
          s.kv().put(RequestContext.of("test"), put(k, v)).get(10, TimeUnit.SECONDS);
          return true;
        } catch (Exception e) {
          // No leader yet, or this member was stopped: the next one, then again.
        }
      }
      return false;
    });
  }

  /** A linearizable read retried while the member has no leader (what clients do), bounded. */
  private static RangeResponse rangeWithRetry(EtcdServer s, RangeRequest r) {
    return LocalCluster.until("a linearizable read on " + Long.toHexString(s.memberId()),
        () -> s.kv().range(RequestContext.of("test"), r).get(20, TimeUnit.SECONDS), t -> true);
  }

  @Test
  void put_thenLinearizableGetOnEveryMember_seesTheWrite() throws Exception {
    startCluster();
    putWithFailover("a", "1");
    for (EtcdServer s : members.values()) {
      RangeResponse r = rangeWithRetry(s, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("a")).build());
      assertThat(r.getKvs(0).getValue().toStringUtf8()).isEqualTo("1");
      assertThat(r.getHeader().getRevision()).isEqualTo(2);
    }
  }

  @Test
  void leaderKilled_underLoad_losesNoAcknowledgedWrite() throws Exception {
    startCluster();
    for (Map.Entry<String, EtcdServer> e : members.entrySet()) {
      e.getValue().publish(List.of(URI.create("http://client-of-" + e.getKey() + ":2379"))).get(30, TimeUnit.SECONDS);
    }
    putWithFailover("warmup", "x");
    String leader = leaderName();
    assertThat(leader).isNotNull();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    List<CompletableFuture<?>> inflight = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String k = "k" + i;
      EtcdServer target = members.get(leader);
      if (i == 150) {
        // Kill the leader mid-stream; requests in flight on it fail or succeed, never both.
        target.hardStop();
        members.remove(leader);
      }
      if (members.containsKey(leader)) {
        CompletableFuture<?> f = target.kv().put(RequestContext.of("test"), put(k, "v")).thenRun(() -> acked.add(k));
        if (i < 100) {
          // The first 100 are acknowledged before the crash; the next 50 are in flight when it comes.
          f.get(20, TimeUnit.SECONDS);
        }
        inflight.add(f);
      } else {
        putWithFailover(k, "v");
        acked.add(k);
      }
    }
    for (CompletableFuture<?> f : inflight) {
      try {
        f.get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        // Not acknowledged: allowed to be lost.
      }
    }
    assertThat(acked.size()).isGreaterThanOrEqualTo(250);
    for (EtcdServer s : members.values()) {
      RangeResponse r = rangeWithRetry(s, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
          .setRangeEnd(ByteString.copyFromUtf8("l")).build());
      Set<String> keys = new java.util.HashSet<>();
      r.getKvsList().forEach(kv -> keys.add(kv.getKey().toStringUtf8()));
      assertThat(keys).containsAll(acked);
    }
    // The old leader restarts from its data dir and converges to the same revision.
    start(leader);
    EtcdServer back = members.get(leader);
    long rev = rangeWithRetry(members.values().stream().filter(s -> s != back).findFirst().orElseThrow(),
        RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build()).getHeader().getRevision();
    RangeResponse r = rangeWithRetry(back, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
        .setRangeEnd(ByteString.copyFromUtf8("l")).build());
    assertThat(r.getHeader().getRevision()).isGreaterThanOrEqualTo(rev);
    Set<String> keys = new java.util.HashSet<>();
    r.getKvsList().forEach(kv -> keys.add(kv.getKey().toStringUtf8()));
    assertThat(keys).containsAll(acked);
    // Published client URLs survive the restart without being published again.
    assertThat(back.membership().list()).allSatisfy(m ->
        assertThat(m.clientUrls()).containsExactly("http://client-of-" + m.name() + ":2379"));
  }

  @Test
  void put_emptyKey_failsWithEtcdError() throws Exception {
    startCluster();
    EtcdServer s = members.values().iterator().next();
    assertThatThrownBy(() -> s.kv().put(RequestContext.of("test"), put("", "v")))
        .isInstanceOf(EtcdException.class).hasMessage("etcdserver: key is not provided");
  }
}
