package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema.Bucket;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corruption checks on three real members, one of whose backends a test corrupts while it is
 * stopped (a stored value rewritten in place, same revision, same length): the initial check stops
 * it from starting, the leader's periodic check raises CORRUPT for member 0; members whose data
 * agree pass both.
 */
class CorruptionCheckClusterTest {
  private static final RequestContext CTX = RequestContext.of("test");

  @TempDir Path dir;
  private LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private EtcdServer leader() {
    EtcdServer leader = cluster.leader(s -> true);
    LocalCluster.await("every member knows the leader",
        () -> cluster.members().values().stream().allMatch(s -> s.leader() == leader.memberId()));
    return leader;
  }

  private static void put(EtcdServer s, String k, String v) throws Exception {
    s.kv().put(CTX, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v))
        .build()).get(20, TimeUnit.SECONDS);
  }

  /** A follower's name, once it applied everything the leader did. */
  private String caughtUpFollower(EtcdServer leader) {
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() != leader).findFirst().orElseThrow()
        .getKey();
    EtcdServer f = cluster.members().get(name);
    LocalCluster.await("the follower caught up", () -> f.appliedIndex() == leader.appliedIndex()
        && f.header().getRevision() == leader.header().getRevision());
    return name;
  }

  /** Rewrites, in the stopped member's backend, the value of every stored revision of {@code key}. */
  private static void corrupt(Path dataDir, String key) {
    try (Backend b = Backend.open(dataDir.resolve("member").resolve("kv"))) {
      List<byte[][]> records = new ArrayList<>();
      try (ReadView v = b.snapshotView()) {
        v.scan(Bucket.KEY, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
          records.add(new byte[][] {k, val});
          return true;
        });
      }
      try (Batch batch = b.newBatch()) {
        for (byte[][] r : records) {
          KeyValue kv = KeyValue.parseFrom(r[1]);
          if (kv.getKey().toStringUtf8().equals(key)) {
            byte[] value = kv.getValue().toByteArray();
            value[0] ^= 1;
            batch.put(Bucket.KEY, r[0], kv.toBuilder().setValue(ByteString.copyFrom(value)).build().toByteArray());
          }
        }
        b.commit(batch);
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private Path dataDir(EtcdServer s) {
    return s.config().dataDir;
  }

  @Test
  void initial_aRestartedMemberWithCorruptData_refusesToStart_andOneWithoutStarts() throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> c.initialCorruptCheck = true);
    EtcdServer leader = leader();
    for (int i = 0; i < 10; i++) {
      put(leader, "k" + i, "value-" + i);
    }
    String name = caughtUpFollower(leader);
    EtcdServer follower = cluster.members().get(name);
    long id = follower.memberId();
    Path data = dataDir(follower);

    // Unchanged data: the check passes.
    cluster.stop(follower);
    EtcdServer again = cluster.restart(name);
    LocalCluster.await("the restarted member serves", () -> again.leader() != 0);
    caughtUpFollower(leader);

    cluster.stop(again);
    corrupt(data, "k3");
    assertThatThrownBy(() -> cluster.restart(name)).isInstanceOf(DataInconsistencyException.class)
        .hasMessage(String.format("%016x found data inconsistency with peers", id));
    assertThat(cluster.members()).doesNotContainKey(name);
    // The others go on.
    put(leader, "after", "x");
  }

  @Test
  void periodic_theLeaderFindsAFollowerWithAnotherHash_andRaisesCorrupt() throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> c.corruptCheckTime = Duration.ofSeconds(30));
    EtcdServer leader = leader();
    cluster.pump().hold();
    for (int i = 0; i < 10; i++) {
      put(leader, "k" + i, "value-" + i);
    }

    // Agreeing members: a check finds nothing.
    cluster.clock().jump(Duration.ofSeconds(30));
    assertThat(leader.alarms()).isEmpty();

    String name = caughtUpFollower(leader);
    EtcdServer follower = cluster.members().get(name);
    Path data = dataDir(follower);
    cluster.stop(follower);
    corrupt(data, "k3");
    cluster.pump().resume();
    EtcdServer restarted = cluster.restart(name);
    LocalCluster.await("the restarted member knows the leader", () -> restarted.leader() == leader.memberId());
    cluster.pump().hold();
    caughtUpFollower(leader);

    AlarmMember corrupt = AlarmMember.newBuilder().setAlarm(AlarmType.CORRUPT).build();
    LocalCluster.await("the leader raised CORRUPT", () -> {
      cluster.clock().jump(Duration.ofSeconds(30));
      return leader.alarms().contains(corrupt);
    });
    for (Map.Entry<String, EtcdServer> e : cluster.members().entrySet()) {
      EtcdServer s = e.getValue();
      LocalCluster.await(e.getKey() + " applied the alarm", () -> s.alarms().contains(corrupt));
    }
    try {
      put(leader, "k", "v");
      throw new AssertionError("a put went through a CORRUPT alarm");
    } catch (ExecutionException ex) {
      assertThat(((EtcdException) ex.getCause()).error()).isEqualTo(EtcdError.CORRUPT);
    }
  }
}
