package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Entry;
import io.kvorum.raft.RawNode;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.replication.ListApplier;
import io.kvorum.server.replication.ReplicationException;
import io.kvorum.server.wal.RaftStorage;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real raft loops (WAL and snapshot files on disk) connected only by {@link PeerTransport}
 * over loopback gRPC. A scheduled ticker drives the raft clocks as a member's ticker would; the
 * test itself only waits on latches and futures.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RaftLoopTransportTest {
  private static final long TICK_MS = 20;
  private static final long AWAIT_SECONDS = 30;
  private static final int PROPOSALS = 100;

  @TempDir Path dir;

  /** Records applied payloads; counts down when the first entry and all proposals are applied. */
  /** The cluster test's applier, with latches for the first entry and for the proposals. */
  static final class LatchApplier extends ListApplier {
    final CountDownLatch firstEntry = new CountDownLatch(1);
    final CountDownLatch proposals = new CountDownLatch(PROPOSALS);

    LatchApplier(long index) {
      super(index);
    }

    @Override
    public void apply(List<Entry> entries) {
      int before = applied.size();
      super.apply(entries);
      for (int i = before; i < applied.size(); i++) {
        proposals.countDown();
      }
      if (!entries.isEmpty()) {
        firstEntry.countDown();
      }
    }
  }

  private final Map<Long, RaftLoop> loops = new TreeMap<>();
  private final Map<Long, LatchApplier> appliers = new TreeMap<>();
  private final Map<Long, PeerTransport> transports = new TreeMap<>();
  private final AtomicReference<Throwable> fatal = new AtomicReference<>();
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "test-ticker");
    t.setDaemon(true);
    return t;
  });

  @AfterEach
  void stopAll() throws Exception {
    ticker.shutdownNow();
    for (PeerTransport t : transports.values()) {
      t.close();
    }
    for (RaftLoop l : loops.values()) {
      l.close();
    }
    assertThat(fatal.get()).isNull();
  }

  /** Runs {@code action} on a loop's raft thread when it exists; a full inbox drops the report. */
  private static void onLoop(AtomicReference<RaftLoop> loop, Consumer<RawNode> action) {
    RaftLoop l = loop.get();
    if (l != null) {
      try {
        l.call(action);
      } catch (ReplicationException e) {
        // Raft learns the same from the next report or heartbeat.
      }
    }
  }

  @Test
  void raftLoops_overGrpcTransport_electLeaderAndReplicate() throws Exception {
    Map<Long, AtomicReference<RaftLoop>> refs = new TreeMap<>();
    Map<Long, URI> urls = new TreeMap<>();
    for (long id = 1; id <= 3; id++) {
      AtomicReference<RaftLoop> ref = new AtomicReference<>();
      refs.put(id, ref);
      PeerTransport t = new PeerTransport(id, TestMember.CLUSTER,
          m -> {
            RaftLoop l = ref.get();
            if (l != null) {
              l.receive(m);
            }
          },
          peer -> onLoop(ref, n -> n.reportUnreachable(peer)),
          (peer, failed) -> onLoop(ref, n -> n.reportSnapshot(peer, failed)),
          PeerSecurity.plaintext(), TestMember.FAST);
      transports.put(id, t);
      urls.put(id, t.listen(List.of(URI.create("http://127.0.0.1:0"))).urls().get(0));
    }
    for (long id = 1; id <= 3; id++) {
      for (long peer = 1; peer <= 3; peer++) {
        if (peer != id) {
          transports.get(id).addPeer(peer, List.of(urls.get(peer)));
        }
      }
    }
    for (long id = 1; id <= 3; id++) {
      RaftStorage storage = RaftStorage.create(dir.resolve("m" + id), new byte[] {(byte) id});
      storage.bootstrap(ConfState.ofVoters(1, 2, 3), new byte[0]);
      long applied = storage.memory().snapshot().index();
      LatchApplier applier = new LatchApplier(applied);
      RawNode node = new RawNode(Config.defaults(id, storage.memory(), new SplittableRandom(id)).withApplied(applied));
      RaftLoop loop = new RaftLoop("m" + id, node, storage, transports.get(id), applier,
          storage.memory().snapshot().metadata().confState(), 1_000_000, fatal::set);
      appliers.put(id, applier);
      loops.put(id, loop);
      refs.get(id).set(loop);
      loop.start();
    }
    ticker.scheduleAtFixedRate(() -> loops.values().forEach(RaftLoop::tick), TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);

    // A new leader's first entry is applied everywhere: the election went over the transport.
    for (LatchApplier a : appliers.values()) {
      assertThat(a.firstEntry.await(AWAIT_SECONDS, TimeUnit.SECONDS)).as("leader elected and its entry applied").isTrue();
    }
    long leader = loops.get(1L).softState().lead();
    assertThat(leader).isBetween(1L, 3L);

    List<ByteBuffer> expected = new ArrayList<>();
    List<CompletableFuture<Void>> accepted = new ArrayList<>();
    for (int i = 0; i < PROPOSALS; i++) {
      byte[] payload = ByteBuffer.allocate(4).putInt(i).array();
      expected.add(ByteBuffer.wrap(payload));
      accepted.add(loops.get(leader).propose(payload));
    }
    CompletableFuture.allOf(accepted.toArray(CompletableFuture[]::new)).get(AWAIT_SECONDS, TimeUnit.SECONDS);
    for (LatchApplier a : appliers.values()) {
      assertThat(a.proposals.await(AWAIT_SECONDS, TimeUnit.SECONDS)).as("all proposals applied").isTrue();
    }
    for (LatchApplier a : appliers.values()) {
      synchronized (a.applied) {
        assertThat(a.applied).containsExactlyElementsOf(expected);
      }
    }
    for (long id = 1; id <= 3; id++) {
      for (long peer = 1; peer <= 3; peer++) {
        if (peer != id) {
          assertThat(transports.get(id).isActive(peer)).as("%d -> %d connected", id, peer).isTrue();
        }
      }
    }
  }
}
