package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.Entry;
import io.kvorum.raft.Snapshot;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.membership.Member;
import io.kvorum.server.replication.Applier;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.testing.ClockPump;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose apply falls more than {@link Proposer#COMMITTED_UNAPPLIED_ENTRIES_MAX} entries
 * behind commit refuses new requests with etcd's {@code too many requests} (gRPC
 * RESOURCE_EXHAUSTED) before proposing them, as etcd 3.4 does, and takes them again once apply has
 * caught up. Apply is held back by an applier that waits on a latch; the member's clock is held,
 * so no request times out while apply waits.
 */
class ApplyBacklogTest {
  /** Puts sent while apply is held: enough that commit runs more than the bound ahead. */
  static final int PUTS = (int) Proposer.COMMITTED_UNAPPLIED_ENTRIES_MAX + 2_000;
  static final long WAIT_SECONDS = 60;

  @TempDir Path dir;
  final FakeClock clock = new FakeClock();
  ClockPump pump;
  EtcdServer member;
  final HeldApplier held = new HeldApplier();

  /** Applies through the member's applier once the gate is open; the apply thread waits at a closed one. */
  static final class HeldApplier implements Applier {
    volatile Applier member;
    volatile CountDownLatch gate = new CountDownLatch(0);

    Applier wrap(Applier a) {
      this.member = a;
      return this;
    }

    void hold() {
      gate = new CountDownLatch(1);
    }

    void release() {
      gate.countDown();
    }

    @Override
    public void apply(List<Entry> entries) {
      try {
        if (!gate.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
          throw new IllegalStateException("apply held longer than the test allows");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      member.apply(entries);
    }

    @Override
    public ConfChange applyConfChange(Entry e, ConfChange cc) {
      return member.applyConfChange(e, cc);
    }

    @Override
    public void restore(Snapshot snapshot) {
      member.restore(snapshot);
    }

    @Override
    public long appliedIndex() {
      return member.appliedIndex();
    }

    @Override
    public byte[] prepareSnapshot() {
      return member.prepareSnapshot();
    }
  }

  @BeforeEach
  void start() throws IOException {
    pump = ClockPump.start(clock, Duration.ofMillis(10));
    URI peer = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "m1";
    b.dataDir = dir.resolve("m1");
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.initialCluster = "m1=" + peer;
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = 500;
    b.clock = clock;
    member = EtcdServer.start(b.build(), held::wrap);
    LocalCluster.await("a leader", () -> member.raftStatus().isLeader());
    LocalCluster.until("a first put", () -> put("first").get(WAIT_SECONDS, TimeUnit.SECONDS),
        t -> t instanceof EtcdException);
    // From here on time moves only when the test says: nothing times out while apply is held.
    pump.hold();
  }

  @AfterEach
  void stop() throws IOException {
    held.release();
    try {
      member.hardStop();
    } finally {
      pump.close();
    }
  }

  private CompletableFuture<PutResponse> put(String key) {
    return member.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
        .setValue(ByteString.copyFromUtf8("v")).build());
  }

  /** The etcd error {@code f} failed with at once, or null if it is not (yet) failed. */
  private static EtcdError refusal(CompletableFuture<?> f) {
    if (!f.isCompletedExceptionally()) {
      return null;
    }
    try {
      f.join();
      return null;
    } catch (java.util.concurrent.CompletionException e) {
      Throwable t = Proposer.cause(e);
      return t instanceof EtcdException ee ? ee.error() : null;
    }
  }

  private long lag() {
    RaftLoop loop = member.raftLoop();
    return loop.committedIndex() - loop.appliedIndex();
  }

  @Test
  void propose_applyLagsCommitBeyondTheBound_refusesWithTooManyRequestsUntilApplyCatchesUp() throws Exception {
    held.hold();
    List<CompletableFuture<PutResponse>> puts = new ArrayList<>(PUTS);
    for (int i = 0; i < PUTS; i++) {
      puts.add(put("k" + i));
    }
    LocalCluster.await("apply lags commit by more than the bound",
        () -> lag() > Proposer.COMMITTED_UNAPPLIED_ENTRIES_MAX);

    // Every kind of proposed request is refused at once, without being proposed.
    CompletableFuture<PutResponse> refusedPut = put("refused");
    assertThat(refusal(refusedPut)).isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    try {
      refusedPut.get();
    } catch (ExecutionException e) {
      EtcdException ee = (EtcdException) Proposer.cause(e);
      assertThat(ee.getMessage()).isEqualTo("etcdserver: too many requests");
      assertThat(ee.error().code()).isEqualTo(EtcdError.Code.RESOURCE_EXHAUSTED);
    }
    RequestContext ctx = RequestContext.of("test");
    assertThat(refusal(member.leases().leaseGrant(ctx, LeaseGrantRequest.newBuilder().setTTL(60).build())))
        .isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    assertThat(refusal(member.kv().compact(ctx, CompactionRequest.newBuilder().setRevision(1).build())))
        .isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    assertThat(refusal(member.alarm(ctx, AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build())))
        .isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    assertThat(refusal(member.auth().roleAdd(ctx, AuthRoleAddRequest.newBuilder().setName("r").build())))
        .isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    // A membership change is proposed all the same (etcd's configure has no such check).
    Member self = member.members().stream().filter(m -> m.id() == member.memberId()).findFirst().orElseThrow();
    CompletableFuture<List<Member>> update = member.memberUpdate(ctx, self.id(),
        self.peerUrls());
    assertThat(update.isDone()).isFalse();

    held.release();
    CompletableFuture.allOf(puts.stream().map(f -> f.handle((v, e) -> null)).toArray(CompletableFuture[]::new))
        .get(WAIT_SECONDS, TimeUnit.SECONDS);
    int refused = 0;
    for (CompletableFuture<PutResponse> f : puts) {
      if (f.isCompletedExceptionally()) {
        assertThat(refusal(f)).isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
        refused++;
      }
    }
    // Those sent before the gap grew were all proposed and applied.
    assertThat(refused).isLessThan(PUTS - (int) Proposer.COMMITTED_UNAPPLIED_ENTRIES_MAX);
    assertThat(update.get(WAIT_SECONDS, TimeUnit.SECONDS)).isNotEmpty();
    LocalCluster.await("apply caught up", () -> lag() == 0);
    // Revision 1 is the empty store's, 2 the first put's; every accepted put made one more.
    assertThat(put("after").get(WAIT_SECONDS, TimeUnit.SECONDS).getHeader().getRevision())
        .isEqualTo(2 + (PUTS - refused) + 1);
  }
}
