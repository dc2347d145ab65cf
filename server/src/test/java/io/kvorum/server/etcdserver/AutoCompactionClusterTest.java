package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --auto-compaction-mode} on three members whose clock only the test moves: the leader
 * compacts through the log, and every member applies it.
 */
class AutoCompactionClusterTest {
  private static final RequestContext CTX = RequestContext.of("test");

  @TempDir Path dir;
  private LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private EtcdServer start(String mode, String retention) throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> {
      c.autoCompactionMode = mode;
      c.autoCompactionRetention = retention;
    });
    EtcdServer leader = cluster.leader(s -> true);
    LocalCluster.await("every member knows the leader",
        () -> cluster.members().values().stream().allMatch(s -> s.leader() == leader.memberId()));
    cluster.pump().hold();
    return leader;
  }

  private void puts(EtcdServer s, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      s.kv().put(CTX, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + i))
          .setValue(ByteString.copyFromUtf8("v")).build()).get(20, TimeUnit.SECONDS);
    }
  }

  private static long compactRevision(EtcdServer s) throws Exception {
    return s.hashKv(CTX, 0).get(20, TimeUnit.SECONDS).getCompactRevision();
  }

  private void awaitCompactedAt(long rev) {
    LocalCluster.await("every member compacted at " + rev,
        () -> cluster.members().values().stream().allMatch(s -> compactRevisionUnchecked(s) == rev));
  }

  private static long compactRevisionUnchecked(EtcdServer s) {
    try {
      return compactRevision(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void revision_everyFiveMinutes_theLeaderKeepsTheLastRevisions() throws Exception {
    EtcdServer leader = start("revision", "5");
    puts(leader, 20);
    cluster.clock().jump(Duration.ofMinutes(4));
    assertThat(compactRevision(leader)).isEqualTo(-1);
    cluster.clock().jump(Duration.ofMinutes(1));
    awaitCompactedAt(21 - 5);
    puts(leader, 10);
    cluster.clock().jump(Duration.ofMinutes(5));
    awaitCompactedAt(31 - 5);
  }

  @Test
  void periodic_afterTheRetention_compactsAtTheRevisionOfOneRetentionAgo() throws Exception {
    EtcdServer leader = start("periodic", "1m");
    Duration sample = Duration.ofSeconds(6);
    puts(leader, 10);
    cluster.clock().jump(sample);
    for (int i = 1; i < 10; i++) {
      cluster.clock().jump(sample);
    }
    // A minute after start: at the revision sampled when the member started.
    awaitCompactedAt(1);
    puts(leader, 10);
    for (int i = 0; i < 10; i++) {
      cluster.clock().jump(sample);
    }
    // A minute later: at the revision sampled a minute before.
    awaitCompactedAt(11);
    assertThat(cluster.members().values()).allMatch(s -> compactRevisionUnchecked(s) == 11);
  }
}
