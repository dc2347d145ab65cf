package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.RawNode;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.replication.ListApplier;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Proposer#PROPOSALS_PENDING_MAX} filled (a small one): the proposer's requests go through a
 * real raft loop to an applier that applies them without answering their waiters, so they wait
 * until their request timeout on the fake clock. At the bound a request is refused with {@code too
 * many requests}; once the waiters time out, requests are taken again.
 */
class ProposerBoundsTest {
  static final int PENDING_MAX = 50;
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
  @TempDir Path dir;
  final FakeClock clock = new FakeClock();
  final AtomicReference<Throwable> fatal = new AtomicReference<>();
  ListApplier applier;
  RaftLoop loop;
  Proposer proposer;

  @BeforeEach
  void start() throws IOException {
    RaftStorage storage = RaftStorage.create(dir.resolve("m1"), new byte[] {1});
    storage.bootstrap(ConfState.ofVoters(1), new byte[0]);
    long applied = storage.memory().snapshot().index();
    RawNode node = new RawNode(Config.defaults(1, storage.memory(), new SplittableRandom(1)).withApplied(applied));
    applier = new ListApplier(applied);
    loop = new RaftLoop("m1", node, storage, msgs -> { }, applier,
        storage.memory().snapshot().metadata().confState(), 1_000_000_000L, fatal::set);
    loop.start();
    for (int i = 0; i < 2_000 && !loop.status().isLeader(); i++) {
      loop.tick();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(loop.status().isLeader()).isTrue();
    proposer = new Proposer(loop, clock, new RequestIds(1, 0), new Waiters(), 1 << 20, REQUEST_TIMEOUT, PENDING_MAX);
  }

  @AfterEach
  void stop() throws IOException {
    proposer.stop();
    loop.close();
    assertThat(fatal.get()).isNull();
  }

  private CompletableFuture<PutResponse> put(int i) {
    return proposer.propose(RequestContext.of("test"), InternalRaftRequest.newBuilder().setPut(PutRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("k" + i)).setValue(ByteString.copyFromUtf8("v"))), PutResponse.class);
  }

  private static EtcdError failure(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.join();
      throw new AssertionError("not failed");
    } catch (CompletionException e) {
      return ((EtcdException) Proposer.cause(e)).error();
    }
  }

  @Test
  void propose_pendingMaxRequestsWaiting_refusesWithTooManyRequestsUntilTheyEnd() {
    assertThat(Proposer.PROPOSALS_PENDING_MAX).isEqualTo(100_000);
    List<CompletableFuture<PutResponse>> waiting = new ArrayList<>();
    for (int i = 0; i < PENDING_MAX; i++) {
      waiting.add(put(i));
    }
    assertThat(proposer.pendingCount()).isEqualTo(PENDING_MAX);
    assertThat(failure(put(-1))).isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
    // The waiting ones were proposed and applied (the refused one was not); their waiters were
    // never answered.
    LocalCluster.await("the waiting requests applied", () -> applier.applied.size() == PENDING_MAX);
    assertThat(waiting).noneMatch(CompletableFuture::isDone);

    clock.advance(REQUEST_TIMEOUT);
    assertThat(waiting).allSatisfy(f -> assertThat(failure(f)).isEqualTo(EtcdError.TIMEOUT));
    assertThat(proposer.pendingCount()).isZero();
    assertThat(proposer.failedCount()).isEqualTo(PENDING_MAX);
    CompletableFuture<PutResponse> again = put(PENDING_MAX);
    assertThat(again).isNotDone();
    assertThat(proposer.pendingCount()).isEqualTo(1);
  }
}
