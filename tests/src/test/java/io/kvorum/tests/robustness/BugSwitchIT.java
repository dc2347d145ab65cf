package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.tests.MemberProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deliberate-bug switches, each shown to do what it says on real member processes, with the
 * same scenario run without the switch as the control: the robustness checker is then shown to
 * catch them (its suite is elsewhere).
 */
class BugSwitchIT {
  @TempDir Path dir;
  FailpointCluster c;
  final List<MemberProcess> stopped = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (MemberProcess m : stopped) {
      signal(m, "CONT");
    }
    if (c != null) {
      c.close();
    }
  }

  private static void signal(MemberProcess m, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(m.process().pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v)).build();
  }

  @Test
  void bugLocalLinearizableReads_followerCutOffFromTheOthers_answersInsteadOfFailing() throws Exception {
    c = new FailpointCluster(dir);
    List<MemberProcess> ms = c.start(3, FailpointCluster.flags());
    MemberProcess leader = c.leader();
    MemberProcess follower = c.other(leader);
    c.kv(leader).withDeadlineAfter(5, TimeUnit.SECONDS).put(put("k", "v1"));
    // The follower has applied v1 once its linearizable read sees it.
    assertThat(c.kv(follower).withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("k")).build()).getKvs(0).getValue().toStringUtf8()).isEqualTo("v1");
    for (MemberProcess m : ms) {
      if (m != follower) {
        signal(m, "STOP");
        stopped.add(m);
      }
    }
    RangeRequest linearizable = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build();
    // Control: cut off from a quorum, a linearizable read cannot be served.
    assertThatThrownBy(() -> c.kv(follower).withDeadlineAfter(3, TimeUnit.SECONDS).range(linearizable))
        .isInstanceOf(StatusRuntimeException.class);
    c.set(follower, "bugLocalLinearizableReads", "return");
    // With the switch, the same member answers from its local state: a read no quorum vouched for.
    assertThat(c.kv(follower).withDeadlineAfter(3, TimeUnit.SECONDS).range(linearizable).getKvs(0).getValue()
        .toStringUtf8()).isEqualTo("v1");
  }

  /** The revisions of the events a watch on {@code prefix} receives until the one of {@code last}. */
  private List<Long> watchPuts(MemberProcess m, String prefix, int puts) throws Exception {
    List<Long> revisions = new ArrayList<>();
    CountDownLatch created = new CountDownLatch(1);
    CountDownLatch sawLast = new CountDownLatch(1);
    String last = prefix + "last";
    StreamObserver<WatchRequest> requests = WatchGrpc.newStub(c.channel(m)).watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse r) {
        if (r.getCreated()) {
          created.countDown();
        }
        for (Event e : r.getEventsList()) {
          synchronized (revisions) {
            revisions.add(e.getKv().getModRevision());
          }
          if (e.getKv().getKey().toStringUtf8().equals(last)) {
            sawLast.countDown();
          }
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8(prefix)).setRangeEnd(ByteString.copyFromUtf8(prefix + "\u007f"))).build());
    assertThat(created.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < puts; i++) {
      c.kv(m).withDeadlineAfter(5, TimeUnit.SECONDS).put(put(prefix + i, "v"));
    }
    // The last put is the end mark: every event before it was sent before it (one stream, in order).
    long lastRev = c.kv(m).withDeadlineAfter(5, TimeUnit.SECONDS).put(put(last, "v")).getHeader().getRevision();
    assertThat(sawLast.await(10, TimeUnit.SECONDS)).as("the watch on %s saw revision %d", prefix, lastRev).isTrue();
    requests.onCompleted();
    synchronized (revisions) {
      return List.copyOf(revisions);
    }
  }

  @Test
  void bugWatchSkipsEvent_fifthEventOfAStream_neverArrives() throws Exception {
    c = new FailpointCluster(dir);
    MemberProcess m = c.start(1, FailpointCluster.flags()).get(0);
    List<Long> all = watchPuts(m, "a/", 10);
    assertThat(all).hasSize(11);
    c.set(m, "bugWatchSkipsEvent", "4*off->1*return");
    List<Long> skipped = watchPuts(m, "b/", 10);
    assertThat(skipped).hasSize(10);
    long first = skipped.get(0);
    Set<Long> expected = new HashSet<>();
    for (long r = first; r < first + 11; r++) {
      expected.add(r);
    }
    expected.removeAll(skipped);
    assertThat(expected).as("the revisions never delivered").containsExactly(first + 4);
  }

  /**
   * A single member whose raft loop power-cuts itself at its 41st save during a write load, then
   * restarts; what was acknowledged but is not there after the restart.
   */
  private Set<String> lostAtPowerCut(String moreFailpoints) throws Exception {
    c = new FailpointCluster(dir);
    MemberProcess m = c.start(1, FailpointCluster.flags(), "raftPowerCut=40*off->panic" + moreFailpoints).get(0);
    Set<String> acked = c.load("key");
    c.awaitPanic(m, "raftPowerCut");
    assertThat(acked).hasSizeGreaterThan(10);
    m.environment(FailpointCluster.FAILPOINTS, null).environment(FailpointCluster.FAILPOINTS_HTTP, null);
    m.start();
    Set<String> lost = new HashSet<>(acked);
    lost.removeAll(c.keys(m, "key"));
    return lost;
  }

  @Test
  void raftPowerCut_withoutTheBug_losesNoAcknowledgedWrite() throws Exception {
    assertThat(lostAtPowerCut("")).isEmpty();
  }

  @Test
  void bugAckBeforeFsync_powerCut_losesAcknowledgedWrites() throws Exception {
    assertThat(lostAtPowerCut(";bugAckBeforeFsync=return")).isNotEmpty();
  }
}
