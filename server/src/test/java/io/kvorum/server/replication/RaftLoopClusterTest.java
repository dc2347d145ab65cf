package io.kvorum.server.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Message;
import io.kvorum.raft.RawNode;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three raft loops in one JVM, each with its real WAL and snapshot files, connected by an in-memory
 * transport. Ticks are driven by the test (no timer), so elections happen when the test says.
 */
class RaftLoopClusterTest {
  @TempDir Path dir;

  final Map<Long, RaftLoop> loops = new ConcurrentHashMap<>();
  final Map<Long, ListApplier> appliers = new ConcurrentHashMap<>();
  final Set<Long> down = ConcurrentHashMap.newKeySet();
  final AtomicReference<Throwable> fatal = new AtomicReference<>();

  private void start(long id, boolean fresh, long snapshotCount) throws IOException {
    Path memberDir = dir.resolve("m" + id);
    RaftStorage storage;
    if (fresh) {
      storage = RaftStorage.create(memberDir, new byte[] {(byte) id});
      storage.bootstrap(ConfState.ofVoters(1, 2, 3), new byte[0]);
    } else {
      storage = RaftStorage.open(memberDir);
    }
    // The applier's state is not durable in this test: it restarts from the snapshot.
    long applied = storage.memory().snapshot().index();
    ListApplier applier = new ListApplier(applied);
    RawNode node = new RawNode(Config.defaults(id, storage.memory(), new SplittableRandom(id)).withApplied(applied));
    Outbox outbox = msgs -> {
      for (Message m : msgs) {
        RaftLoop to = loops.get(m.to());
        if (to != null && !down.contains(m.to()) && !down.contains(id)) {
          to.receive(m);
        }
      }
    };
    RaftLoop loop = new RaftLoop("m" + id, node, storage, outbox, applier,
        storage.memory().snapshot().metadata().confState(), snapshotCount, fatal::set);
    appliers.put(id, applier);
    loops.put(id, loop);
    down.remove(id);
    loop.start();
  }

  @AfterEach
  void stopAll() throws IOException {
    for (RaftLoop l : loops.values()) {
      l.close();
    }
    assertThat(fatal.get()).isNull();
  }

  /** Ticks every live member until {@code cond} holds; bounded by {@code maxTicks}. */
  private void tickUntil(BooleanSupplier cond, int maxTicks) {
    for (int i = 0; i < maxTicks; i++) {
      if (cond.getAsBoolean()) {
        return;
      }
      for (Map.Entry<Long, RaftLoop> e : loops.entrySet()) {
        if (!down.contains(e.getKey())) {
          e.getValue().tick();
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(cond.getAsBoolean()).as("condition within %d ticks", maxTicks).isTrue();
  }

  private long leader() {
    for (Map.Entry<Long, RaftLoop> e : loops.entrySet()) {
      if (!down.contains(e.getKey()) && e.getValue().status().isLeader()) {
        return e.getKey();
      }
    }
    return 0;
  }

  private static byte[] payload(int i) {
    return ByteBuffer.allocate(4).putInt(i).array();
  }

  @Test
  void proposals_threeMembers_appliedEverywhere() throws Exception {
    for (long id = 1; id <= 3; id++) {
      start(id, true, 1_000_000);
    }
    tickUntil(() -> leader() != 0, 2_000);
    RaftLoop l = loops.get(leader());
    List<CompletableFuture<Void>> fs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      fs.add(l.propose(payload(i)));
    }
    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    tickUntil(() -> appliers.values().stream().allMatch(a -> a.applied.size() == 200), 2_000);
    assertThat(appliers.get(1L).applied).isEqualTo(appliers.get(2L).applied).isEqualTo(appliers.get(3L).applied);
  }

  @Test
  void leaderKilled_underLoad_losesNoAcknowledgedWrite() throws Exception {
    for (long id = 1; id <= 3; id++) {
      start(id, true, 1_000_000);
    }
    tickUntil(() -> leader() != 0, 2_000);
    long first = leader();
    Set<ByteBuffer> acked = ConcurrentHashMap.newKeySet();
    ListApplier leaderApplier = appliers.get(first);
    for (int i = 0; i <= 150; i++) {
      loops.get(first).propose(payload(i));
    }
    // Whatever the leader applied so far was acknowledged to clients; then it dies mid-stream.
    tickUntil(() -> leaderApplier.applied.size() > 50, 2_000);
    synchronized (leaderApplier.applied) {
      acked.addAll(leaderApplier.applied);
    }
    down.add(first);
    loops.get(first).close();
    loops.remove(first);
    assertThat(acked).isNotEmpty();
    tickUntil(() -> leader() != 0 && leader() != first, 5_000);
    long second = leader();
    loops.get(second).propose(payload(100_000)).get(10, TimeUnit.SECONDS);
    tickUntil(() -> appliers.get(second).applied.contains(ByteBuffer.wrap(payload(100_000))), 2_000);
    for (long id : loops.keySet()) {
      tickUntil(() -> appliers.get(id).applied.containsAll(acked), 2_000);
    }
    // The killed member restarts from its WAL and catches up to the same log.
    start(first, false, 1_000_000);
    tickUntil(() -> appliers.get(first).applied.contains(ByteBuffer.wrap(payload(100_000))), 5_000);
    assertThat(appliers.get(first).applied).containsAll(acked);
    assertThat(appliers.get(first).applied).isEqualTo(appliers.get(second).applied);
  }

  @Test
  void restart_afterSnapshotsAndCompaction_recoversFromSnapshotAndWal() throws Exception {
    for (long id = 1; id <= 3; id++) {
      start(id, true, 50);
    }
    tickUntil(() -> leader() != 0, 2_000);
    long l = leader();
    for (int i = 0; i < 400; i++) {
      loops.get(l).propose(payload(i));
    }
    tickUntil(() -> appliers.values().stream().allMatch(a -> a.applied.size() == 400), 5_000);
    long follower = l == 1 ? 2 : 1;
    long before = loops.get(follower).appliedIndex();
    tickUntil(() -> loops.get(follower).snapshotIndex() >= 350, 2_000);
    loops.get(follower).close();
    loops.remove(follower);
    start(follower, false, 50);
    RaftLoop restarted = loops.get(follower);
    // The restarted member's applier starts at its last snapshot (>= 350) and replays the rest.
    assertThat(appliers.get(follower).appliedIndex()).isGreaterThanOrEqualTo(350);
    tickUntil(() -> restarted.appliedIndex() >= before, 2_000);
    loops.get(leader()).readIndex().thenCompose(idx -> restarted.waitApplied(idx)).get(10, TimeUnit.SECONDS);
  }

  @Test
  void readIndex_onEveryMemberAtOnce_allAnswered() throws Exception {
    for (long id = 1; id <= 3; id++) {
      start(id, true, 1_000_000);
    }
    tickUntil(() -> leader() != 0, 2_000);
    loops.get(leader()).propose(payload(1)).get(10, TimeUnit.SECONDS);
    tickUntil(() -> appliers.values().stream().allMatch(a -> a.applied.size() == 1), 2_000);
    // Each member's first read has sequence number 1: contexts must still not collide at the leader.
    List<CompletableFuture<Long>> reads = new ArrayList<>();
    for (RaftLoop l : loops.values()) {
      reads.add(l.readIndex());
    }
    tickUntil(() -> reads.stream().allMatch(CompletableFuture::isDone), 2_000);
    for (CompletableFuture<Long> r : reads) {
      assertThat(r.get()).isGreaterThanOrEqualTo(2);
    }
  }
}
