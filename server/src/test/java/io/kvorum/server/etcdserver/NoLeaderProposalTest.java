package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write to a member that knows no leader waits for one, as etcd 3.4's does (its raft node takes
 * no proposal while it has no leader): it is made once a leader is elected, or, if the request's
 * deadline comes first, fails with etcd's {@code context deadline exceeded} and is never made.
 */
class NoLeaderProposalTest {
  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static PutRequest put(String key) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v")).build();
  }

  /** Stops every member but one follower, and returns it once it knows it has no leader. */
  private EtcdServer leaveOneFollowerAlone(List<String> stopped) throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer alone = cluster.other(leader);
    LocalCluster.await("the follower knows the leader", () -> alone.leader() == leader.memberId());
    for (Map.Entry<String, EtcdServer> e : new ArrayList<>(cluster.members().entrySet())) {
      if (e.getValue() != alone) {
        stopped.add(e.getKey());
        cluster.stop(e.getValue());
      }
    }
    LocalCluster.await("the member knows it has no leader", () -> alone.leader() == 0);
    return alone;
  }

  @Test
  void put_withoutALeader_isMadeOnceOneIsElected() throws Exception {
    List<String> stopped = new ArrayList<>();
    EtcdServer alone = leaveOneFollowerAlone(stopped);
    CompletableFuture<PutResponse> waiting = alone.kv().put(RequestContext.of("test"), put("k"));
    for (String name : stopped) {
      cluster.restart(name);
    }
    long rev = waiting.get(30, TimeUnit.SECONDS).getHeader().getRevision();
    assertThat(alone.kv().range(RequestContext.of("test"), RangeRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("k")).build()).get(30, TimeUnit.SECONDS).getKvs(0).getModRevision())
        .isEqualTo(rev);
  }

  @Test
  void put_withoutALeader_pastItsDeadline_failsWithEtcdsErrorAndIsNeverMade() throws Exception {
    List<String> stopped = new ArrayList<>();
    EtcdServer alone = leaveOneFollowerAlone(stopped);
    long deadline = cluster.clock().nanos() + Duration.ofMillis(200).toNanos();
    CompletableFuture<PutResponse> late = alone.kv().put(RequestContext.of("test").withDeadline(deadline), put("late"));
    assertThatThrownBy(() -> late.get(30, TimeUnit.SECONDS)).cause()
        .isInstanceOf(EtcdException.class).hasMessage("context deadline exceeded")
        .extracting(e -> ((EtcdException) e).error()).isEqualTo(EtcdError.PROPOSAL_DEADLINE_EXCEEDED);
    assertThat(EtcdError.PROPOSAL_DEADLINE_EXCEEDED.code()).isEqualTo(EtcdError.Code.UNKNOWN);

    for (String name : stopped) {
      cluster.restart(name);
    }
    long rev = alone.kv().put(RequestContext.of("test"), put("after")).get(30, TimeUnit.SECONDS).getHeader().getRevision();
    // The given-up write was not proposed when the leader came: only the later one is in the store.
    assertThat(rev).isEqualTo(2);
    assertThat(alone.kv().range(RequestContext.of("test"), RangeRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("late")).build()).get(30, TimeUnit.SECONDS).getKvsList()).isEmpty();
  }
}
