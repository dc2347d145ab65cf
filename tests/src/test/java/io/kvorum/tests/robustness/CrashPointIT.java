package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash points inside the server: a three-member cluster of real processes, one member set to
 * panic (exit status 2, as gofail's) at a failpoint while a bounded load or the operation that
 * reaches the point runs, then restarted on the same data dir without the failpoint. After that
 * every acknowledged write must be readable on every member, every member must reach the same
 * revision with the same HashKV there, and the restarted member must serve.
 */
class CrashPointIT {
  static final String PREFIX = "key";

  @TempDir Path dir;
  FailpointCluster c;

  @AfterEach
  void stop() throws InterruptedException {
    if (c != null) {
      c.close();
    }
  }

  /** Restarts a crashed member without any failpoint. */
  private static void restart(MemberProcess m) throws IOException {
    m.environment(FailpointCluster.FAILPOINTS, null).environment(FailpointCluster.FAILPOINTS_HTTP, null);
    m.start();
  }

  /** The point fires on {@code victim} during the write load, at its {@code after+1}-th hit. */
  private void crashDuringLoad(String point, boolean onLeader, int after) throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    MemberProcess leader = c.leader();
    MemberProcess victim = onLeader ? leader : c.other(leader);
    c.set(victim, point, after + "*off->panic");
    Set<String> acked = c.load(PREFIX);
    c.awaitPanic(victim, point);
    assertThat(acked).isNotEmpty();
    restart(victim);
    c.verify(acked, PREFIX, victim);
  }

  @Test
  void raftBeforeSave_leaderCrashesBeforeWritingItsLog_noAcknowledgedWriteLost() throws Exception {
    crashDuringLoad("raftBeforeSave", true, 60);
  }

  @Test
  void raftAfterSave_leaderCrashesAfterItsFsync_noAcknowledgedWriteLost() throws Exception {
    crashDuringLoad("raftAfterSave", true, 60);
  }

  @Test
  void applyMidBatch_leaderCrashesHalfwayThroughABatch_restartReappliesTheRest() throws Exception {
    crashDuringLoad("applyMidBatch", true, 50);
  }

  @Test
  void walFsync_followerCrashesBetweenWriteAndFsync_noAcknowledgedWriteLost() throws Exception {
    crashDuringLoad("walFsync", false, 30);
  }

  @Test
  void beforeApplyOneConfChange_leaderCrashesApplyingAMemberAdd_restartAppliesIt() throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    Set<String> acked = c.load(PREFIX);
    MemberProcess leader = c.leader();
    c.set(leader, "beforeApplyOneConfChange", "panic");
    // A learner that never starts: the change commits with the two others and the quorum stays two.
    try {
      c.memberAdd(c.other(leader), MemberAddRequest.newBuilder().setIsLearner(true)
          .addPeerURLs("http://127.0.0.1:" + MemberProcess.freePort()).build());
    } catch (StatusRuntimeException e) {
      // The leader died before it answered; the change is committed or not, the checks hold either way.
    }
    c.awaitPanic(leader, "beforeApplyOneConfChange");
    restart(leader);
    c.verify(acked, PREFIX, leader);
    // The restarted member holds the same membership as the others: the change applied once.
    int listed = FailpointCluster.retry(() -> ClusterGrpc.newBlockingStub(c.channel(leader))
        .withDeadlineAfter(5, TimeUnit.SECONDS).memberList(
            io.kvorum.proto.etcdserverpb.MemberListRequest.getDefaultInstance())
        .getMembersCount());
    assertThat(listed).isEqualTo(FailpointCluster.retry(() -> ClusterGrpc.newBlockingStub(c.channel(c.other(leader)))
        .withDeadlineAfter(5, TimeUnit.SECONDS).memberList(
            io.kvorum.proto.etcdserverpb.MemberListRequest.getDefaultInstance())
        .getMembersCount()));
  }

  @Test
  void raftSnapshotSendMid_leaderCrashesStreamingASnapshotToANewMember_theNextLeaderSendsIt() throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    Set<String> acked = c.load(PREFIX);
    MemberProcess leader = c.leader();
    c.set(leader, "raftSnapshotSendMid", "panic");
    MemberProcess joining = c.addMember(FailpointCluster.flags());
    // The new member is ready once some leader's snapshot reached it: the crashed one's never does.
    CompletableFuture<Void> joined = CompletableFuture.runAsync(() -> {
      try {
        joining.start();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    c.awaitPanic(leader, "raftSnapshotSendMid");
    restart(leader);
    joined.get(2, TimeUnit.MINUTES);
    c.verify(acked, PREFIX, leader);
  }

  /** A new member set to panic while it receives or installs its first snapshot; then restarted. */
  private void crashJoining(String point) throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    Set<String> acked = c.load(PREFIX);
    MemberProcess joining = c.addMember(FailpointCluster.flags());
    joining.environment(FailpointCluster.FAILPOINTS, point + "=panic");
    assertThatThrownBy(joining::start).isInstanceOf(IOException.class).hasMessageContaining("exited with 2");
    c.awaitPanic(joining, point);
    restart(joining);
    c.verify(acked, PREFIX, joining);
  }

  @Test
  void raftSnapshotReceiveMid_newMemberCrashesHalfwayThroughItsSnapshot_restartReceivesItAgain() throws Exception {
    crashJoining("raftSnapshotReceiveMid");
  }

  @Test
  void raftBeforeApplySnap_newMemberCrashesBeforeInstallingItsSnapshot_restartInstallsIt() throws Exception {
    crashJoining("raftBeforeApplySnap");
  }

  @Test
  void compactBeforeCommitBatch_leaderCrashesMidCompaction_restartFinishesIt() throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    Set<String> acked = c.load(PREFIX);
    // Overwrite the keys so the compaction has revisions to delete.
    c.load(PREFIX);
    MemberProcess leader = c.leader();
    MemberProcess other = c.other(leader);
    long rev = c.kv(other).withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
        .setKey(com.google.protobuf.ByteString.copyFromUtf8(PREFIX + "-0")).build()).getHeader().getRevision();
    c.set(leader, "compactBeforeCommitBatch", "panic");
    c.kv(other).withDeadlineAfter(10, TimeUnit.SECONDS).compact(CompactionRequest.newBuilder().setRevision(rev).build());
    c.awaitPanic(leader, "compactBeforeCommitBatch");
    restart(leader);
    c.verify(acked, PREFIX, leader);
  }

  @Test
  void defragBeforeRename_followerCrashesMidDefragment_restartServesTheSameData() throws Exception {
    c = new FailpointCluster(dir);
    c.start(3, FailpointCluster.flags());
    Set<String> acked = c.load(PREFIX);
    MemberProcess follower = c.other(c.leader());
    c.set(follower, "defragBeforeRename", "panic");
    assertThatThrownBy(() -> c.maintenance(follower).withDeadlineAfter(30, TimeUnit.SECONDS)
        .defragment(DefragmentRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
    c.awaitPanic(follower, "defragBeforeRename");
    restart(follower);
    c.verify(acked, PREFIX, follower);
  }
}
