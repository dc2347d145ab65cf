package io.kvorum.server.etcdserver;


import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MoveLeader and the leadership hand-over of a stopping leader, on three real members. */
class MoveLeaderTest {
  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void moveLeader_toAVoter_underWrites_loseNothing_andEtcdsErrorsOtherwise() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer target = cluster.other(leader);
    assertThatThrownBy(() -> target.moveLeader(RequestContext.of("test"), leader.memberId()).get(20, TimeUnit.SECONDS))
        .hasCauseInstanceOf(EtcdException.class).hasMessageContaining("etcdserver: not leader");
    assertThatThrownBy(() -> leader.moveLeader(RequestContext.of("test"), 12345).get(20, TimeUnit.SECONDS))
        .hasMessageContaining("etcdserver: bad leader transferee");
    leader.moveLeader(RequestContext.of("test"), leader.memberId()).get(20, TimeUnit.SECONDS); // to itself: done at once

    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      writes.add(leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + i))
          .setValue(ByteString.copyFromUtf8("v")).build()));
      if (i == 50) {
        leader.moveLeader(RequestContext.of("test"), target.memberId()).get(20, TimeUnit.SECONDS);
      }
    }
    assertThat(target.leader()).isEqualTo(target.memberId());
    long acked = 0;
    for (CompletableFuture<?> w : writes) {
      try {
        w.get(20, TimeUnit.SECONDS);
        acked++;
      } catch (ExecutionException e) {
        // Proposals on the old leader after the hand-over fail with etcd's errors; none is lost silently.
        assertThat(e.getCause()).isInstanceOf(EtcdException.class);
      }
    }
    assertThat(acked).isGreaterThanOrEqualTo(51);
    long rev = target.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("last"))
        .setValue(ByteString.copyFromUtf8("v")).build()).get(20, TimeUnit.SECONDS).getHeader().getRevision();
    // Every acknowledged put is one revision: the store holds exactly those plus the last one.
    assertThat(rev).isEqualTo(1 + acked + 1);
  }

  @Test
  void moveLeader_toAStoppedVoter_theLeaderDropsProposalsWithEtcdsError() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer target = cluster.other(leader);
    long targetId = target.memberId();
    cluster.members().values().remove(target);
    target.close();
    // The transfer waits for a transferee that never answers; raft drops what the leader is asked
    // meanwhile, and etcd 3.4 sends raft's error as it is (Unknown, "raft proposal dropped").
    CompletableFuture<Void> move = leader.moveLeader(RequestContext.of("test"), targetId);
    CompletableFuture<?> put = leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build());
    assertThatThrownBy(() -> put.get(20, TimeUnit.SECONDS)).cause()
        .isInstanceOf(EtcdException.class).hasMessage("raft proposal dropped")
        .extracting(e -> ((EtcdException) e).error()).isEqualTo(EtcdError.RAFT_PROPOSAL_DROPPED);
    assertThat(EtcdError.RAFT_PROPOSAL_DROPPED.code()).isEqualTo(EtcdError.Code.UNKNOWN);
    // After an election timeout the transfer is given up and the leader takes proposals again.
    assertThatThrownBy(() -> move.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(EtcdException.class);
    leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build()).get(20, TimeUnit.SECONDS);
  }

  @Test
  void stoppingLeader_handsLeadershipToAnotherVoterFirst() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer leader = cluster.leader(s -> true);
    cluster.members().values().remove(leader);
    leader.close();
    // A hand-over, not an election after a timeout: when close() returns, another member already
    // leads (without it, the others would still be waiting out their election timeout).
    assertThat(cluster.members().values()).anyMatch(s -> s.raftStatus().isLeader());
  }
}
