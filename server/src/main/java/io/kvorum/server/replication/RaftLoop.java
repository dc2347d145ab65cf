package io.kvorum.server.replication;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Message;
import io.kvorum.raft.RaftException;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.ReadState;
import io.kvorum.raft.Ready;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SoftState;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The raft loop of one member: two threads.
 *
 * <p>The <b>raft thread</b> owns the {@link RawNode}. Each round it drains up to
 * {@link #INPUTS_PER_ROUND_MAX} inputs (proposals, peer messages, read requests), applies pending
 * ticks, then handles one {@link Ready}: persist (one WAL write and at most one fsync for every
 * proposal of the round: group commit), send, hand committed entries to the apply thread, advance.
 *
 * <p>Membership changes are decided by the applier on the apply thread, in log order (it may
 * refuse one, as etcd refuses a duplicate peer URL at apply time), and the outcome is then applied
 * to raft on the raft thread while the apply thread waits; the raft thread serves those requests
 * even while it waits for room in the apply queue, so the two never deadlock.
 *
 * <p>The <b>apply thread</b> applies committed entries in order through the {@link Applier},
 * publishes the applied index, completes {@link #waitApplied} futures and, every
 * {@code snapshotCount} entries, asks the raft thread to record a snapshot and compact the log.
 *
 * <p>Every queue is bounded: a full inbox refuses proposals ("too many requests") and drops peer
 * messages (raft recovers from loss); a full apply queue blocks the raft thread, which is the
 * back-pressure that keeps committed-but-unapplied entries bounded.
 *
 * <p>Linearizable reads are batched: every read request of a round shares one ReadIndex.
 *
 * <p>A proposal made while this member knows no leader waits for one, as etcd's node holds
 * proposals back while it has none: raft refuses it, the loop keeps it (at most {@link
 * #AWAITING_LEADER_MAX}, oldest first) and proposes it again once a leader is known. Its proposer
 * gives up on it by completing its future (at the request's deadline); one whose future is done is
 * never proposed.
 */
public final class RaftLoop implements AutoCloseable {
  public static final int INBOX_MAX = 16_384;
  public static final int INPUTS_PER_ROUND_MAX = 4_096;
  public static final int APPLY_QUEUE_MAX = 64;
  /** Proposals kept while no leader is known; beyond it one is refused with "too many requests". */
  public static final int AWAITING_LEADER_MAX = INBOX_MAX;
  /**
   * How long the raft and apply threads wait for work before looking again. Every input, tick,
   * task and {@link #close()} wakes them, so this only bounds a missed wake-up; it is long so an
   * idle member does not wake for nothing (20 times a second per thread at 50 ms).
   */
  private static final long IDLE_WAIT_MS = 1000;
  /** How often the apply thread, waiting for the raft thread to apply a membership change, checks for a stop. */
  private static final long CONF_WAIT_MS = 50;

  private sealed interface Input permits Proposal, Receive, Read, Call, Wake {}

  /** Something to append to the log; {@code accepted} completes when raft takes it. */
  private sealed interface Proposal extends Input permits Propose, ProposeConf {
    CompletableFuture<Void> accepted();

    /** Hands it to raft; throws what raft throws when it refuses. */
    void proposeTo(RawNode node);
  }

  private record Propose(byte[] data, CompletableFuture<Void> accepted) implements Proposal {
    @Override
    public void proposeTo(RawNode node) {
      node.propose(data);
    }
  }

  private record ProposeConf(ConfChange cc, CompletableFuture<Void> accepted) implements Proposal {
    @Override
    public void proposeTo(RawNode node) {
      node.proposeConfChange(cc);
    }
  }

  private record Receive(Message m) implements Input {}

  private record Read(CompletableFuture<Long> index) implements Input {}

  private record Call(Consumer<RawNode> action) implements Input {}

  private record Wake() implements Input {}

  private record ApplyTask(io.kvorum.raft.Snapshot snapshot, List<Entry> entries) {}

  /** Wakes the apply thread to see that the loop stops. */
  private static final ApplyTask STOP = new ApplyTask(null, List.of());

  /** A membership change the apply thread decided, for the raft thread to apply. */
  private record ConfApply(ConfChange cc, CompletableFuture<ConfState> result) {}

  private final RawNode node;
  private final RaftStorage storage;
  private final Outbox outbox;
  private final Applier applier;
  private final long snapshotCount;
  private final Consumer<Throwable> onFatal;
  private final BlockingQueue<Input> inbox = new ArrayBlockingQueue<>(INBOX_MAX);
  private final BlockingQueue<ApplyTask> applyQueue = new ArrayBlockingQueue<>(APPLY_QUEUE_MAX);
  private final AtomicInteger pendingTicks = new AtomicInteger();
  private final LongAdder droppedPeerMessages = new LongAdder();
  private final java.util.concurrent.ConcurrentLinkedQueue<ConfApply> confApplies =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Thread raftThread;
  private final Thread applyThread;
  private volatile boolean running = true;

  // Raft thread only.
  private long readSeq;
  private final Map<ByteBuffer, List<CompletableFuture<Long>>> pendingReads = new HashMap<>();
  private List<CompletableFuture<Long>> readBatch = new ArrayList<>();
  /** Proposals raft refused for want of a leader, to propose again once one is known. */
  private final ArrayDeque<Proposal> awaitingLeader = new ArrayDeque<>();

  // Published for other threads.
  private volatile SoftState softState = new SoftState(0, StateType.FOLLOWER);
  private volatile long term;
  private volatile long appliedIndex;
  /**
   * The index of the last committed entry (or snapshot) handed to the apply thread, published by
   * the raft thread once a round (etcd's {@code committedIndex}, set as the raft loop sends entries
   * to apply): with {@link #appliedIndex} it tells how far apply lags commit.
   */
  private volatile long committedIndex;
  private volatile Status lastStatus;
  private volatile long snapshotIndex;
  /** Times this member saw a new leader (etcd's {@code leader_changes_seen_total}); raft thread writes. */
  private volatile long leaderChanges;
  /** True while the apply thread installs a snapshot from the leader. */
  private volatile boolean restoring;

  // Apply thread only.
  private ConfState appliedConfState;
  private long lastSnapshotIndex;
  /** The last log index durable in the WAL (raft thread only). */
  private long persistedIndex;
  private final Object waitersLock = new Object();
  private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();

  private record LeaderWait(long id, CompletableFuture<Void> future) {}

  private final List<LeaderWait> leaderWaits = new ArrayList<>();

  private record Waiter(long index, CompletableFuture<Void> future) implements Comparable<Waiter> {
    @Override
    public int compareTo(Waiter o) {
      return Long.compare(index, o.index);
    }
  }

  /**
   * @param node a RawNode built on {@code storage.memory()} with applied = the applier's index
   * @param appliedConfState the configuration as of the applier's index
   * @param snapshotCount entries applied between two snapshots
   * @param onFatal called once with a storage or invariant failure; the member must then stop
   */
  public RaftLoop(String name, RawNode node, RaftStorage storage, Outbox outbox, Applier applier,
      ConfState appliedConfState, long snapshotCount, Consumer<Throwable> onFatal) {
    this.node = node;
    this.storage = storage;
    this.outbox = outbox;
    this.applier = applier;
    this.snapshotCount = snapshotCount;
    this.onFatal = onFatal;
    this.appliedConfState = appliedConfState;
    this.appliedIndex = applier.appliedIndex();
    this.committedIndex = appliedIndex;
    this.lastSnapshotIndex = storage.memory().snapshot().index();
    this.snapshotIndex = lastSnapshotIndex;
    this.persistedIndex = storage.memory().lastIndex();
    this.lastStatus = node.status();
    this.raftThread = new Thread(this::raftLoop, "raft-" + name);
    this.applyThread = new Thread(this::applyLoop, "apply-" + name);
  }

  public void start() {
    raftThread.start();
    applyThread.start();
  }

  // ------------------------------------------------------------ API for other threads

  /** One tick of the raft clock; called by the member's ticker. */
  public void tick() {
    pendingTicks.incrementAndGet();
    inbox.offer(new Wake());
  }

  /**
   * Completes once member {@code id} is the leader this member knows (at once if it is); a caller
   * that stops waiting should cancel the future. Fails when the loop stops.
   */
  public CompletableFuture<Void> whenLeader(long id) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (leaderWaits) {
      leaderWaits.removeIf(w -> w.future().isDone());
      if (softState.lead() == id) {
        f.complete(null);
      } else if (!running) {
        f.completeExceptionally(new ReplicationException(ReplicationException.Kind.STOPPED, "etcdserver: server stopped"));
      } else {
        leaderWaits.add(new LeaderWait(id, f));
      }
    }
    return f;
  }

  private void leaderIs(long lead) {
    List<CompletableFuture<Void>> done = new ArrayList<>();
    synchronized (leaderWaits) {
      leaderWaits.removeIf(w -> {
        if (w.id() == lead || w.future().isDone()) {
          done.add(w.future());
          return true;
        }
        return false;
      });
    }
    done.forEach(f -> f.complete(null));
  }

  /** Proposes {@code data}; the future completes when raft accepted it (not when applied). */
  public CompletableFuture<Void> propose(byte[] data) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    offer(new Propose(data, f), f);
    return f;
  }

  public CompletableFuture<Void> proposeConfChange(ConfChange cc) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    offer(new ProposeConf(cc, f), f);
    return f;
  }

  /** A linearizable read point: wait for {@link #waitApplied} of the answer, then read locally. */
  public CompletableFuture<Long> readIndex() {
    CompletableFuture<Long> f = new CompletableFuture<>();
    offer(new Read(f), f);
    return f;
  }

  /** Delivers a message from a peer; dropped (and counted) if the inbox is full (raft retransmits). */
  public void receive(Message m) {
    if (!inbox.offer(new Receive(m))) {
      droppedPeerMessages.increment();
    }
  }

  /** Peer messages dropped because the inbox was full. */
  public long droppedPeerMessages() {
    return droppedPeerMessages.sum();
  }

  /** Runs {@code action} on the raft thread (transfer leader, report unreachable, ...). */
  public void call(Consumer<RawNode> action) {
    if (!inbox.offer(new Call(action))) {
      throw new ReplicationException(ReplicationException.Kind.TOO_MANY_REQUESTS, "etcdserver: too many requests");
    }
  }

  /** Completes once the applier has applied {@code index}. */
  public CompletableFuture<Void> waitApplied(long index) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (appliedIndex >= index) {
      f.complete(null);
      return f;
    }
    synchronized (waitersLock) {
      waiters.add(new Waiter(index, f));
    }
    // The apply thread may have passed index between the check and the registration.
    completeWaiters(appliedIndex);
    return f;
  }

  public SoftState softState() {
    return softState;
  }

  public long term() {
    return term;
  }

  public long appliedIndex() {
    return appliedIndex;
  }

  /**
   * The index of the last committed entry handed to the apply thread (at least {@link
   * #appliedIndex()} once apply caught up; a volatile read, nothing more).
   */
  public long committedIndex() {
    return committedIndex;
  }

  /** The index of the newest durable raft snapshot. */
  public long snapshotIndex() {
    return snapshotIndex;
  }

  /** How many times this member saw a new leader (none counts as no change). */
  public long leaderChanges() {
    return leaderChanges;
  }

  /** True while a snapshot received from the leader is being installed. */
  public boolean isRestoring() {
    return restoring;
  }

  /** The raft status as of the last round (refreshed every round). */
  public Status status() {
    return lastStatus;
  }

  private void offer(Input in, CompletableFuture<?> f) {
    if (!running) {
      f.completeExceptionally(new ReplicationException(ReplicationException.Kind.STOPPED, "etcdserver: server stopped"));
    } else if (!inbox.offer(in)) {
      f.completeExceptionally(new ReplicationException(ReplicationException.Kind.TOO_MANY_REQUESTS,
          "etcdserver: too many requests"));
    }
  }

  // ------------------------------------------------------------ raft thread

  private void raftLoop() {
    List<Input> batch = new ArrayList<>(INPUTS_PER_ROUND_MAX);
    try {
      while (running) {
        batch.clear();
        boolean retry = !awaitingLeader.isEmpty() && softState.lead() != 0;
        if (!node.hasReady() && pendingTicks.get() == 0 && confApplies.isEmpty() && !retry) {
          Input first = inbox.poll(IDLE_WAIT_MS, TimeUnit.MILLISECONDS);
          if (first != null) {
            batch.add(first);
          }
        }
        inbox.drainTo(batch, INPUTS_PER_ROUND_MAX - batch.size());
        applyConfChanges();
        if (retry) {
          proposeAwaitingLeader();
        }
        for (Input in : batch) {
          handle(in);
        }
        int ticks = pendingTicks.getAndSet(0);
        for (int i = 0; i < ticks; i++) {
          node.tick();
        }
        if (!readBatch.isEmpty()) {
          startRead();
        }
        if (node.hasReady()) {
          handleReady(node.ready());
        }
        lastStatus = node.status();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | IOException | Error e) {
      fatal(e);
    } finally {
      failAll();
    }
  }

  private void handle(Input in) {
    if (in instanceof Proposal p) {
      if (p.accepted().isDone()) {
        return; // its proposer gave up on it
      }
      try {
        p.proposeTo(node);
        p.accepted().complete(null);
      } catch (RaftException.ProposalDropped e) {
        refused(p, e);
      }
    } else if (in instanceof Receive r) {
      try {
        node.step(r.m());
      } catch (RaftException.InvalidMessage | RaftException.ProposalDropped e) {
        // A malformed or stale message from a peer is not our failure.
      }
    } else if (in instanceof Read r) {
      readBatch.add(r.index());
    } else if (in instanceof Call c) {
      c.action().accept(node);
    }
  }

  /** A proposal raft refused: kept until a leader is known when there is none, failed otherwise. */
  private void refused(Proposal p, RaftException.ProposalDropped e) {
    if (node.status().softState().lead() != 0) {
      p.accepted().completeExceptionally(new ReplicationException(ReplicationException.Kind.DROPPED, e.getMessage()));
    } else if (awaitingLeader.size() >= AWAITING_LEADER_MAX) {
      p.accepted().completeExceptionally(new ReplicationException(ReplicationException.Kind.TOO_MANY_REQUESTS,
          "etcdserver: too many requests"));
    } else {
      awaitingLeader.add(p);
    }
  }

  /** Proposes again, oldest first, what waited for a leader (skipping what its proposer gave up). */
  private void proposeAwaitingLeader() {
    List<Proposal> waiting = new ArrayList<>(awaitingLeader);
    awaitingLeader.clear();
    for (Proposal p : waiting) {
      handle(p);
    }
  }

  private void startRead() {
    if (softState.lead() == 0) {
      ReplicationException ex = new ReplicationException(ReplicationException.Kind.NO_LEADER, "etcdserver: no leader");
      readBatch.forEach(f -> f.completeExceptionally(ex));
      readBatch = new ArrayList<>();
      return;
    }
    // The leader keys pending reads by context: it must be unique across members, so it carries
    // this member's id (a bare counter collided between followers and was silently dropped).
    byte[] ctx = ByteBuffer.allocate(16).putLong(node.id()).putLong(++readSeq).array();
    pendingReads.put(ByteBuffer.wrap(ctx), readBatch);
    readBatch = new ArrayList<>();
    node.readIndex(ctx);
  }

  private void handleReady(Ready rd) throws IOException, InterruptedException {
    if (rd.softState() != null) {
      SoftState old = softState;
      softState = rd.softState();
      if (old.lead() != rd.softState().lead()) {
        if (rd.softState().lead() != 0) {
          leaderChanges = leaderChanges + 1;
        }
        leaderIs(rd.softState().lead());
        // Read requests in flight were addressed to the old leader, which forgets them.
        failReads(new ReplicationException(ReplicationException.Kind.LEADER_CHANGED, "etcdserver: leader changed"));
      }
    }
    if (rd.hardState() != null) {
      term = rd.hardState().term();
    }
    if (rd.snapshot() != null) {
      storage.saveReceivedSnapshot(rd.snapshot());
      snapshotIndex = rd.snapshot().index();
    }
    // Committed entries already durable here (appended in an earlier round) are handed to the
    // apply thread before this round's write, so applying overlaps the fsync instead of waiting
    // for it (etcd does the same). Committed entries can never be rewritten, and an entry is
    // applied only once it is durable locally; the hard state's commit index may lag what is
    // applied after a crash, which the member allows for on restart.
    List<Entry> committed = rd.committedEntries();
    int early = 0;
    if (rd.snapshot() == null) {
      while (early < committed.size() && committed.get(early).index() <= persistedIndex) {
        early++;
      }
      if (early > 0) {
        enqueueApply(null, committed.subList(0, early));
      }
    }
    // A leader sends its appends before its own fsync, so followers persist in parallel (Raft
    // thesis §10.2.1; the leader counts itself only once the entries are in this Ready's storage
    // write, which happens before anything is applied). Everyone else persists first: an APP_RESP
    // or a vote must never acknowledge what is not durable.
    boolean leader = softState.raftState() == StateType.LEADER;
    if (leader && !rd.messages().isEmpty()) {
      outbox.send(rd.messages());
    }
    boolean saves = rd.hardState() != null || !rd.entries().isEmpty();
    if (Failpoints.ENABLED && saves) {
      // Behind the constant: the bound method reference is not even made in production.
      Failpoints.hit(Failpoint.RAFT_POWER_CUT, storage::powerCut);
      Failpoints.hit(Failpoint.RAFT_BEFORE_SAVE);
    }
    storage.save(rd.hardState(), rd.entries(), rd.mustSync());
    if (saves) {
      Failpoints.hit(Failpoint.RAFT_AFTER_SAVE);
    }
    if (rd.snapshot() != null) {
      persistedIndex = rd.snapshot().index();
    }
    if (!rd.entries().isEmpty()) {
      persistedIndex = rd.entries().get(rd.entries().size() - 1).index();
    }
    if (!leader && !rd.messages().isEmpty()) {
      outbox.send(rd.messages());
    }
    for (ReadState rs : rd.readStates()) {
      List<CompletableFuture<Long>> fs = pendingReads.remove(ByteBuffer.wrap(rs.requestCtx()));
      if (fs != null) {
        fs.forEach(f -> f.complete(rs.index()));
      }
    }
    if (rd.snapshot() != null || early < committed.size()) {
      enqueueApply(rd.snapshot(), committed.subList(early, committed.size()));
    }
    node.advance();
  }

  private void enqueueApply(Snapshot snapshot, List<Entry> committed) throws InterruptedException {
    ApplyTask task = new ApplyTask(snapshot, List.copyOf(committed));
    long ci = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).index();
    if (snapshot != null) {
      ci = Math.max(ci, snapshot.index());
    }
    if (ci > committedIndex) {
      // Before the hand-over, as etcd does: a proposer sees the gap even while this thread waits
      // for room in the apply queue.
      committedIndex = ci;
    }
    // The apply thread may be waiting for this thread to apply a membership change: serve it
    // while waiting for room.
    while (!applyQueue.offer(task, 5, TimeUnit.MILLISECONDS)) {
      applyConfChanges();
      if (!running) {
        throw new InterruptedException("stopping");
      }
    }
  }

  /** Applies the membership changes the apply thread decided (raft thread). */
  private void applyConfChanges() {
    ConfApply c;
    while ((c = confApplies.poll()) != null) {
      try {
        c.result().complete(node.applyConfChange(c.cc()));
      } catch (RuntimeException e) {
        c.result().completeExceptionally(e);
        throw e;
      }
    }
  }

  /** Has the raft thread apply {@code cc} and waits for the resulting configuration (apply thread). */
  private ConfState applyToRaft(ConfChange cc) throws InterruptedException {
    CompletableFuture<ConfState> f = new CompletableFuture<>();
    confApplies.add(new ConfApply(cc, f));
    inbox.offer(new Wake());
    while (true) {
      try {
        return f.get(CONF_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        if (!running) {
          throw new InterruptedException("stopping");
        }
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("raft refused a committed membership change", e.getCause());
      }
    }
  }

  private void failReads(ReplicationException ex) {
    for (List<CompletableFuture<Long>> fs : pendingReads.values()) {
      fs.forEach(f -> f.completeExceptionally(ex));
    }
    pendingReads.clear();
  }

  private void failAll() {
    ReplicationException ex = new ReplicationException(ReplicationException.Kind.STOPPED, "etcdserver: server stopped");
    failReads(ex);
    readBatch.forEach(f -> f.completeExceptionally(ex));
    List<Input> rest = new ArrayList<>(awaitingLeader);
    awaitingLeader.clear();
    inbox.drainTo(rest);
    for (Input in : rest) {
      if (in instanceof Proposal p) {
        p.accepted().completeExceptionally(ex);
      } else if (in instanceof Read r) {
        r.index().completeExceptionally(ex);
      }
    }
  }

  // ------------------------------------------------------------ apply thread

  private void applyLoop() {
    try {
      while (running) {
        ApplyTask t = applyQueue.poll(IDLE_WAIT_MS, TimeUnit.MILLISECONDS);
        if (t == null || t == STOP) {
          continue;
        }
        if (t.snapshot() != null && t.snapshot().index() > applier.appliedIndex()) {
          restoring = true;
          try {
            Failpoints.hit(Failpoint.RAFT_BEFORE_APPLY_SNAP);
            applier.restore(t.snapshot());
          } finally {
            restoring = false;
          }
          appliedConfState = t.snapshot().metadata().confState();
          lastSnapshotIndex = t.snapshot().index();
        }
        List<Entry> todo = new ArrayList<>(t.entries().size());
        for (Entry e : t.entries()) {
          if (e.type() == EntryType.CONF_CHANGE) {
            // Every membership change reaches raft, also those the state machine already holds
            // (raft restarts from its snapshot's configuration); the applier decides which.
            if (!todo.isEmpty()) {
              applier.apply(todo);
              todo = new ArrayList<>();
            }
            ConfChange cc = applier.applyConfChange(e, ConfChange.decode(e.data()));
            appliedConfState = applyToRaft(cc);
          } else if (e.index() > applier.appliedIndex()) {
            todo.add(e);
          }
        }
        if (!todo.isEmpty()) {
          applier.apply(todo);
        }
        long now = applier.appliedIndex();
        appliedIndex = now;
        completeWaiters(now);
        if (now - lastSnapshotIndex >= snapshotCount) {
          byte[] data = applier.prepareSnapshot();
          long at = now;
          ConfState cs = appliedConfState;
          lastSnapshotIndex = now;
          // Runs on the raft thread, which owns the storage.
          if (!inbox.offer(new Call(n -> snapshot(at, cs, data)))) {
            lastSnapshotIndex = 0;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      fatal(e);
    }
  }

  private void snapshot(long index, ConfState cs, byte[] data) {
    try {
      if (index > storage.memory().snapshot().index()) {
        storage.createSnapshot(index, cs, data);
        snapshotIndex = index;
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void completeWaiters(long applied) {
    List<CompletableFuture<Void>> done = new ArrayList<>();
    synchronized (waitersLock) {
      while (!waiters.isEmpty() && waiters.peek().index() <= applied) {
        done.add(waiters.poll().future());
      }
    }
    done.forEach(f -> f.complete(null));
  }

  private void fatal(Throwable t) {
    if (running) {
      running = false;
      onFatal.accept(t);
    }
  }

  @Override
  public void close() throws IOException {
    // No interrupts: an interrupt closes a FileChannel mid-write. Both threads poll with a
    // timeout and see the flag; the raft thread finishes the round (and its fsync) it is in.
    running = false;
    inbox.offer(new Wake());
    applyQueue.offer(STOP);
    try {
      raftThread.join(10_000);
      applyThread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ReplicationException ex = new ReplicationException(ReplicationException.Kind.STOPPED, "etcdserver: server stopped");
    synchronized (waitersLock) {
      waiters.forEach(w -> w.future().completeExceptionally(ex));
      waiters.clear();
    }
    synchronized (leaderWaits) {
      leaderWaits.forEach(w -> w.future().completeExceptionally(ex));
      leaderWaits.clear();
    }
    storage.close();
  }
}
