package io.kvorum.server.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Message;
import io.kvorum.raft.RawNode;
import io.kvorum.server.wal.PowerCutWalFiles;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability test SIGKILL cannot fake: every member's WAL sits on a layer that, at a simulated
 * power cut, loses every byte not fsynced (keeping a random torn prefix). After the cut of the
 * whole cluster and a restart, every write a client had been told about is still there.
 */
class PowerCutClusterTest {
  @TempDir Path dir;
  final Map<Long, PowerCutWalFiles> disks = new ConcurrentHashMap<>();
  final Map<Long, RaftLoop> loops = new ConcurrentHashMap<>();
  final Map<Long, ListApplier> appliers = new ConcurrentHashMap<>();
  final AtomicReference<Throwable> fatal = new AtomicReference<>();

  private void start(long id, boolean fresh) throws IOException {
    Path memberDir = dir.resolve("m" + id);
    RaftStorage storage;
    if (fresh) {
      disks.put(id, new PowerCutWalFiles());
      storage = RaftStorage.create(disks.get(id), memberDir, new byte[] {(byte) id});
      storage.bootstrap(ConfState.ofVoters(1, 2, 3), new byte[0]);
    } else {
      storage = RaftStorage.open(disks.get(id), memberDir);
    }
    long applied = storage.memory().snapshot().index();
    ListApplier applier = new ListApplier(applied);
    RawNode node = new RawNode(Config.defaults(id, storage.memory(), new SplittableRandom(id)).withApplied(applied));
    Outbox outbox = msgs -> {
      for (Message m : msgs) {
        RaftLoop to = loops.get(m.to());
        if (to != null) {
          to.receive(m);
        }
      }
    };
    RaftLoop loop = new RaftLoop("m" + id, node, storage, outbox, applier,
        storage.memory().snapshot().metadata().confState(), 1_000_000, fatal::set);
    appliers.put(id, applier);
    loops.put(id, loop);
    loop.start();
  }

  private void tickUntil(BooleanSupplier cond, int maxTicks) {
    for (int i = 0; i < maxTicks && !cond.getAsBoolean(); i++) {
      loops.values().forEach(RaftLoop::tick);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(cond.getAsBoolean()).as("condition within %d ticks", maxTicks).isTrue();
  }

  private long leader() {
    for (Map.Entry<Long, RaftLoop> e : loops.entrySet()) {
      if (e.getValue().status().isLeader()) {
        return e.getKey();
      }
    }
    return 0;
  }

  @Test
  void powerCut_wholeClusterMidLoad_noAcknowledgedWriteLost() throws Exception {
    for (int round = 0; round < 5; round++) {
      disks.clear();
      loops.clear();
      appliers.clear();
      dir = dir.resolve("r" + round);
      for (long id = 1; id <= 3; id++) {
        start(id, true);
      }
      tickUntil(() -> leader() != 0, 2_000);
      long l = leader();
      for (int i = 0; i < 300; i++) {
        loops.get(l).propose(ByteBuffer.allocate(4).putInt(i).array());
      }
      // Acknowledged = applied by the leader (the member that answers the client).
      tickUntil(() -> appliers.get(l).applied.size() >= 100, 2_000);
      Set<ByteBuffer> acked;
      synchronized (appliers.get(l).applied) {
        acked = new HashSet<>(appliers.get(l).applied);
      }
      // Power cut everywhere: the loops stop, then everything not fsynced is lost.
      for (RaftLoop loop : loops.values()) {
        loop.close();
      }
      loops.clear();
      SplittableRandom r = new SplittableRandom(round);
      disks.values().forEach(d -> d.powerCut(r));
      for (long id = 1; id <= 3; id++) {
        start(id, false);
      }
      tickUntil(() -> leader() != 0, 5_000);
      long l2 = leader();
      byte[] marker = ByteBuffer.allocate(4).putInt(1_000_000 + round).array();
      loops.get(l2).propose(marker).get(10, TimeUnit.SECONDS);
      for (long id = 1; id <= 3; id++) {
        ListApplier a = appliers.get(id);
        tickUntil(() -> a.applied.contains(ByteBuffer.wrap(marker)), 5_000);
        assertThat(a.applied).as("member %d round %d", id, round).containsAll(acked);
      }
      for (RaftLoop loop : loops.values()) {
        loop.close();
      }
      assertThat(fatal.get()).isNull();
    }
  }
}
