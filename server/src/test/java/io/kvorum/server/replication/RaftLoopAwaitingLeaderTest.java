package io.kvorum.server.replication;

import static io.kvorum.server.replication.RaftLoopBoundsTest.refusal;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proposals to a member that knows no leader (member 1 of two voters, never ticked, so it neither
 * campaigns nor hears a leader): the raft loop keeps them, up to {@link
 * RaftLoop#AWAITING_LEADER_MAX}, and forwards them in order once a leader is heard, skipping the
 * ones their proposer gave up on.
 */
class RaftLoopAwaitingLeaderTest {
  static final long WAIT_SECONDS = 60;
  @TempDir Path dir;
  final AtomicReference<Throwable> fatal = new AtomicReference<>();
  final List<Message> sent = new CopyOnWriteArrayList<>();
  RaftLoop loop;

  @BeforeEach
  void start() throws IOException {
    RaftStorage storage = RaftStorage.create(dir.resolve("m1"), new byte[] {1});
    storage.bootstrap(ConfState.ofVoters(1, 2), new byte[0]);
    long applied = storage.memory().snapshot().index();
    RawNode node = new RawNode(Config.defaults(1, storage.memory(), new SplittableRandom(1)).withApplied(applied));
    loop = new RaftLoop("m1", node, storage, sent::addAll, new ListApplier(applied),
        storage.memory().snapshot().metadata().confState(), 1_000_000_000L, fatal::set);
    loop.start();
  }

  @AfterEach
  void stop() throws IOException {
    loop.close();
    assertThat(fatal.get()).isNull();
  }

  private static byte[] payload(int i) {
    return ByteBuffer.allocate(4).putInt(i).array();
  }

  /** Returns once the raft thread handled everything offered before. */
  private void barrier() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    loop.call(n -> done.countDown());
    assertThat(done.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void proposals_withoutALeader_waitThenGoToTheLeaderInOrder_butNotTheGivenUp() throws Exception {
    CompletableFuture<Void> a = loop.propose(payload(1));
    CompletableFuture<Void> b = loop.propose(payload(2));
    CompletableFuture<Void> c = loop.propose(payload(3));
    barrier();
    assertThat(List.of(a, b, c)).noneMatch(CompletableFuture::isDone);
    b.completeExceptionally(new IllegalStateException("its proposer gave up")); // as Proposer does at the deadline

    loop.receive(Message.builder(MessageType.HEARTBEAT).from(2).to(1).term(1).build());
    CompletableFuture.allOf(a, c).get(WAIT_SECONDS, TimeUnit.SECONDS);
    LocalCluster.await("the proposals forwarded to the leader", () -> forwarded().size() == 2);
    assertThat(forwarded()).containsExactly(1, 3);
  }

  private List<Integer> forwarded() {
    List<Integer> out = new ArrayList<>();
    for (Message m : sent) {
      if (m.type() == MessageType.PROP && m.to() == 2) {
        for (Entry e : m.entries()) {
          out.add(ByteBuffer.wrap(e.data()).getInt());
        }
      }
    }
    return out;
  }

  @Test
  void proposals_withoutALeader_beyondTheBound_areRefusedAndTheKeptOnesFailOnStop() throws Exception {
    List<CompletableFuture<Void>> kept = new ArrayList<>();
    int chunk = RaftLoop.INBOX_MAX / 4; // the inbox must never fill: wait for each chunk to be taken
    while (kept.size() < RaftLoop.AWAITING_LEADER_MAX) {
      for (int i = 0; i < chunk && kept.size() < RaftLoop.AWAITING_LEADER_MAX; i++) {
        kept.add(loop.propose(payload(kept.size())));
      }
      barrier();
    }
    assertThat(kept).noneMatch(CompletableFuture::isDone);
    CompletableFuture<Void> beyond = loop.propose(payload(-1));
    barrier();
    assertThat(refusal(beyond)).isEqualTo(ReplicationException.Kind.TOO_MANY_REQUESTS);
    assertThat(kept).noneMatch(CompletableFuture::isDone);

    loop.close();
    assertThat(kept).allMatch(f -> refusal(f) == ReplicationException.Kind.STOPPED);
  }
}
