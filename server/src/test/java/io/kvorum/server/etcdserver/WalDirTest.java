package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --wal-dir}: the WAL lives in its own directory, and a restart reads it from there. */
class WalDirTest {
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

  private static String get(EtcdServer s, String k) {
    return LocalCluster.until("a read", () -> s.kv().range(RequestContext.of("test"),
        RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).build()).get(20, TimeUnit.SECONDS), t -> true)
        .getKvs(0).getValue().toStringUtf8();
  }

  private static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  @Test
  void walDir_restart_logIsWrittenAndReadThere() throws Exception {
    Path walDir = dir.resolve("dedicated-wal");
    cluster = LocalCluster.start(dir, 1, b -> b.walDir = walDir);
    EtcdServer m = cluster.leader(s -> true);
    m.kv().put(RequestContext.of("test"), put("k", "before")).get(20, TimeUnit.SECONDS);
    cluster.stop(m);

    assertThat(names(walDir)).anyMatch(n -> n.endsWith(".wal"));
    assertThat(dir.resolve("m1").resolve("member").resolve("wal")).doesNotExist();

    EtcdServer again = cluster.restart("m1");
    LocalCluster.await("a leader after the restart", () -> again.raftStatus().isLeader());
    assertThat(get(again, "k")).isEqualTo("before");
    again.kv().put(RequestContext.of("test"), put("k", "after")).get(20, TimeUnit.SECONDS);
    assertThat(get(again, "k")).isEqualTo("after");
  }

  @Test
  void walDir_whileDataDirHoldsAWal_refusesToStart() throws Exception {
    cluster = LocalCluster.start(dir, 1, b -> { });
    EtcdServer m = cluster.leader(s -> true);
    m.kv().put(RequestContext.of("test"), put("k", "v")).get(20, TimeUnit.SECONDS);
    cluster.stop(m);
    Path walDir = dir.resolve("dedicated-wal");

    assertThatThrownBy(() -> cluster.restart("m1", b -> b.walDir = walDir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("--wal-dir is " + walDir)
        .hasMessageContaining("holds a WAL too");
    assertThat(walDir).doesNotExist();
  }

  @Test
  void walDir_namingTheDataDirsOwn_isTheSameWal() throws Exception {
    cluster = LocalCluster.start(dir, 1, b -> { });
    EtcdServer m = cluster.leader(s -> true);
    m.kv().put(RequestContext.of("test"), put("k", "v")).get(20, TimeUnit.SECONDS);
    cluster.stop(m);

    EtcdServer again = cluster.restart("m1", b -> b.walDir = dir.resolve("m1/member/wal"));

    assertThat(get(again, "k")).isEqualTo("v");
  }
}
