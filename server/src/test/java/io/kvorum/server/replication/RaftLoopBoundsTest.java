package io.kvorum.server.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Entry;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.RawNode;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The raft loop's two queues filled, on one member whose apply is held on a latch: the apply queue
 * ({@link RaftLoop#APPLY_QUEUE_MAX} batches of committed entries) holds the raft thread back once
 * full, and the inbox ({@link RaftLoop#INBOX_MAX} inputs) then refuses proposals and reads with
 * {@code too many requests}; released, everything accepted is applied.
 */
class RaftLoopBoundsTest {
  static final long WAIT_SECONDS = 60;
  @TempDir Path dir;
  final AtomicReference<Throwable> fatal = new AtomicReference<>();
  HeldApplier applier;
  RaftLoop loop;

  /** A list applier whose apply waits while the gate is closed. */
  static final class HeldApplier extends ListApplier {
    volatile CountDownLatch gate = new CountDownLatch(0);

    HeldApplier(long index) {
      super(index);
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
      super.apply(entries);
    }
  }

  @BeforeEach
  void start() throws IOException {
    RaftStorage storage = RaftStorage.create(dir.resolve("m1"), new byte[] {1});
    storage.bootstrap(ConfState.ofVoters(1), new byte[0]);
    long applied = storage.memory().snapshot().index();
    applier = new HeldApplier(applied);
    RawNode node = new RawNode(Config.defaults(1, storage.memory(), new SplittableRandom(1)).withApplied(applied));
    loop = new RaftLoop("m1", node, storage, msgs -> { }, applier, storage.memory().snapshot().metadata().confState(),
        1_000_000_000L, fatal::set);
    loop.start();
    // Ticks only until it leads: from then on nothing but the test's proposals enters the inbox.
    for (int i = 0; i < 2_000 && !loop.status().isLeader(); i++) {
      loop.tick();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(loop.status().isLeader()).isTrue();
  }

  @AfterEach
  void stop() throws IOException {
    applier.gate.countDown();
    loop.close();
    assertThat(fatal.get()).isNull();
  }

  private static byte[] payload(int i) {
    return ByteBuffer.allocate(4).putInt(i).array();
  }

  /** The kind of refusal {@code f} failed with (it must have failed). */
  static ReplicationException.Kind refusal(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.get();
      throw new AssertionError("not failed");
    } catch (ExecutionException e) {
      return ((ReplicationException) e.getCause()).kind();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void queues_applyHeld_applyQueueHoldsTheRaftThreadThenTheInboxRefuses() throws Exception {
    loop.propose(payload(-1)).get(WAIT_SECONDS, TimeUnit.SECONDS);
    LocalCluster.await("the first entry applied", () -> applier.applied.size() == 1);
    long base = loop.committedIndex();
    assertThat(loop.appliedIndex()).isEqualTo(base);

    applier.gate = new CountDownLatch(1);
    // One batch per proposal: the apply thread holds the first, the queue the next APPLY_QUEUE_MAX,
    // and the raft thread waits to hand over the one after (its commit is already published).
    int committedWhileHeld = RaftLoop.APPLY_QUEUE_MAX + 2;
    for (int i = 1; i <= committedWhileHeld; i++) {
      loop.propose(payload(i)).get(WAIT_SECONDS, TimeUnit.SECONDS);
      long index = base + i;
      LocalCluster.await("entry " + index + " committed", () -> loop.committedIndex() >= index);
    }
    assertThat(loop.committedIndex()).isEqualTo(base + committedWhileHeld);
    assertThat(loop.appliedIndex()).isEqualTo(base);

    // The raft thread takes nothing more: the inbox fills, then refuses.
    List<CompletableFuture<Void>> waiting = new ArrayList<>();
    for (int i = 0; i < RaftLoop.INBOX_MAX; i++) {
      waiting.add(loop.propose(payload(committedWhileHeld + 1 + i)));
    }
    assertThat(waiting).noneMatch(CompletableFuture::isDone);
    assertThat(refusal(loop.propose(payload(-2)))).isEqualTo(ReplicationException.Kind.TOO_MANY_REQUESTS);
    assertThat(refusal(loop.readIndex())).isEqualTo(ReplicationException.Kind.TOO_MANY_REQUESTS);
    // A peer's message is dropped and counted (raft sends it again).
    loop.receive(Message.builder(MessageType.HEARTBEAT).from(2).to(1).term(1).build());
    assertThat(loop.droppedPeerMessages()).isEqualTo(1);

    applier.gate.countDown();
    CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new)).get(WAIT_SECONDS, TimeUnit.SECONDS);
    int total = 1 + committedWhileHeld + RaftLoop.INBOX_MAX;
    LocalCluster.await("everything accepted applied", () -> applier.applied.size() == total);
    assertThat(loop.appliedIndex()).isEqualTo(loop.committedIndex()).isEqualTo(base + committedWhileHeld
        + RaftLoop.INBOX_MAX);
  }
}
