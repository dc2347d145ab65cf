package io.kvorum.server.transport;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import com.google.protobuf.ByteString;
import io.kvorum.proto.raftpb.SnapshotAck;
import io.kvorum.proto.raftpb.SnapshotChunk;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.ProbeResponse;
import io.kvorum.proto.raftpb.RaftPeerGrpc;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Everything one member sends to one peer: a bounded queue and the thread that drains it into one
 * long-lived raft stream ({@link OutboundRaftStream}).
 *
 * <p><b>Queue.</b> {@link #offer} never blocks: messages beyond
 * {@link TransportSettings#peerQueueMessagesMax()} are dropped and the peer is reported
 * unreachable, as etcd does when a peer's stream buffer is full. Raft tolerates loss; it resends.
 *
 * <p><b>Sender thread.</b> It owns the channel and the stream. To connect it opens a fresh gRPC
 * channel to the next of the peer's URLs (round robin over failures), probes the peer (same
 * cluster? the expected member?) within the dial timeout, then opens the raft stream to the same
 * URL. It sends only while the stream {@code isReady()} (accepted, and netty's buffer below about
 * two batches), one batch of up to {@code batchBytesMax} at a time, so a slow peer backs up into
 * the bounded queue instead. The thread waits on one condition that every event signals: a message
 * queued, the stream ready or broken, the URLs changed, stop. Nothing holds the lock while calling
 * into netty except {@code isReady()}, which does not call back.
 *
 * <p><b>Failure.</b> A failed connection or a broken stream drops whatever is queued (it is stale by
 * the time the peer is back, and raft resends), reports the peer unreachable, and waits a backoff
 * that starts at {@code backoffMin} and doubles per consecutive failure up to {@code backoffMax};
 * a stream that carried traffic before it broke starts over at the minimum. A fresh channel per
 * attempt keeps gRPC's own reconnect backoff (which grows to two minutes) out of the picture. A
 * dropped or failed snapshot message is reported as a failed snapshot, a sent one as finished
 * (raft falls back to probing if it was lost after all).
 *
 * <p><b>Faults.</b> Under failpoints ({@link Failpoints#ENABLED}) a robustness test can delay
 * ({@code peerSendDelay}), lose ({@code peerSendDrop}) or swap ({@code peerSendReorder}) the
 * messages this member sends, to make a slow or lossy network where the kernel has no netem. Then
 * every batch goes through the sender thread (no direct write from {@link #offer}), so a delay
 * never stalls the raft loop and the one held-back message is the sender thread's alone. Snapshot
 * messages are never lost or swapped here: their outcome is reported to raft by their own call.
 * Without failpoints these checks are constant-false and compiled away.
 */
final class PeerSender {
  private static final System.Logger LOG = System.getLogger(PeerSender.class.getName());
  /** Bytes a batch adds around its messages: cluster id and from (tag + varint each). */
  private static final int BATCH_FRAMING_BYTES = 2 * 11;

  /** What the sender tells its owner; both must not block. */
  interface Reports {
    void unreachable(long peerId);

    void snapshotStatus(long peerId, boolean failed);

    /** The peer says this member was removed from the cluster. */
    default void removed() {}
  }

  private final long selfId;
  private final long clusterId;
  private final long peerId;
  private final PeerSecurity security;
  private final TransportSettings settings;
  private final Supplier<EventLoopGroup> domainGroup;
  /** Dials the raft stream; the gRPC channel serves the probe, forwarded calls and snapshots. */
  private final StreamDialer dialer;
  private final Reports reports;
  private final Thread thread;
  private final AtomicLong dropped = new AtomicLong();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  // Guarded by lock.
  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  private List<Endpoint> endpoints;
  private boolean endpointsChanged;
  private boolean stopping;
  /** The open stream while it is usable; set and cleared by the sender thread. */
  private OutboundRaftStream current;
  /** Some thread is writing a batch to {@link #current}: writes never overlap, so order holds. */
  private boolean sending;

  /** The sender thread's current channel, published so {@link #stop()} can cut a pending probe. */
  private volatile ManagedChannel channel;
  private final SnapshotStreams.Source snapshots;
  private volatile boolean active;
  /** The time (member clock) when the stream last became active; meaningful while {@link #active}. */
  private volatile long activeSinceNanos;
  /** The member's clock (nanoseconds). */
  private final java.util.function.LongSupplier nanos;
  private volatile PeerObserver.Peer counters = PeerObserver.Peer.NONE;
  /**
   * The message {@code peerSendReorder} held back, sent after the next one; sender thread only,
   * dropped with the stream it was meant for.
   */
  private Message heldBack;

  PeerSender(long selfId, long clusterId, long peerId, List<Endpoint> endpoints, PeerSecurity security,
      TransportSettings settings, java.util.function.LongSupplier nanos, Supplier<EventLoopGroup> domainGroup,
      StreamDialer dialer, Reports reports, SnapshotStreams.Source snapshots) {
    this.dialer = dialer;
    this.snapshots = snapshots;
    this.nanos = nanos;
    this.selfId = selfId;
    this.clusterId = clusterId;
    this.peerId = peerId;
    this.endpoints = List.copyOf(endpoints);
    this.security = security;
    this.settings = settings;
    this.domainGroup = domainGroup;
    this.reports = reports;
    this.thread = new Thread(this::run, "kvorum-peer-" + Long.toHexString(peerId));
    this.thread.setDaemon(true);
  }

  /** Reports this peer's traffic to {@code c}; set before {@link #start}. */
  void observe(PeerObserver.Peer c) {
    counters = c;
  }

  void start() {
    thread.start();
  }

  /** The connected, probed channel to the peer, for unary calls; null while not connected. */
  ManagedChannel connectedChannel() {
    return active ? channel : null;
  }

  /**
   * Queues {@code messages} in order; drops what does not fit and reports it. Never blocks. When the
   * stream is open, ready and idle, the caller writes the batch itself (gRPC only queues it for
   * its transport thread), which saves a wake-up of the sender thread on every round.
   */
  void offer(List<Message> messages) {
    List<Message> rejected = null;
    List<Message> direct = null;
    OutboundRaftStream stream = null;
    lock.lock();
    try {
      if (stopping) {
        return;
      }
      // With a backlog the sender thread keeps the order; only a fresh batch may go directly.
      boolean idle = queue.isEmpty();
      for (Message m : messages) {
        if (queue.size() < settings.peerQueueMessagesMax()) {
          queue.addLast(m);
        } else {
          if (rejected == null) {
            rejected = new ArrayList<>();
          }
          rejected.add(m);
        }
      }
      stream = current;
      if (!Failpoints.ENABLED && idle && !sending && stream != null && !endpointsChanged && stream.broken() == null && stream.isReady()
          && !hasSnapshot(messages)) {
        direct = drainBatch();
        sending = true;
      } else {
        wake.signal();
      }
    } finally {
      lock.unlock();
    }
    if (direct != null) {
      try {
        send(stream, direct);
      } finally {
        doneSending();
      }
    }
    if (rejected != null) {
      dropped(rejected, "its queue is full (" + settings.peerQueueMessagesMax() + " messages)");
    }
  }

  /** Snapshots are encoded by the sender thread only: they are large. */
  private static boolean hasSnapshot(List<Message> q) {
    for (Message m : q) {
      if (m.type() == MessageType.SNAP) {
        return true;
      }
    }
    return false;
  }

  private void doneSending() {
    lock.lock();
    try {
      sending = false;
      // Whatever arrived meanwhile (or did not fit the batch) is the sender thread's; a sender
      // tearing its stream down waits for this send to end. Otherwise it has nothing to do: no
      // wake-up (one per send per peer otherwise, measured at ~4 per put on a leader of three).
      if (!queue.isEmpty() || stopping || endpointsChanged || current == null) {
        wake.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Points the sender at new URLs; it reconnects at once (etcd's member update). */
  void update(List<Endpoint> newEndpoints) {
    lock.lock();
    try {
      endpoints = List.copyOf(newEndpoints);
      endpointsChanged = true;
      wake.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Tells the thread to stop, dropping what is queued, and cuts a pending connection attempt. */
  void stop() {
    lock.lock();
    try {
      stopping = true;
      wake.signal();
    } finally {
      lock.unlock();
    }
    ManagedChannel ch = channel;
    if (ch != null) {
      ch.shutdownNow();
    }
  }

  /** Waits up to {@code joinMs} for the thread to end after {@link #stop()}. */
  void awaitStopped(long joinMs) {
    try {
      thread.join(joinMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  long droppedMessages() {
    return dropped.get();
  }

  boolean isActive() {
    return active;
  }

  /** When the open stream became active (member clock), or empty while none is open. */
  java.util.OptionalLong activeSince() {
    long since = activeSinceNanos;
    return active ? java.util.OptionalLong.of(since) : java.util.OptionalLong.empty();
  }

  // ------------------------------------------------------------ sender thread

  private void run() {
    long backoffNanos = settings.backoffMin().toNanos();
    int attempt = 0;
    OutboundRaftStream stream = null;
    String lastFailure = null;
    try {
      while (true) {
        Endpoint ep;
        boolean reconnect = false;
        lock.lock();
        try {
          if (stopping) {
            return;
          }
          if (endpointsChanged) {
            endpointsChanged = false;
            reconnect = true;
          }
          ep = endpoints.get(Math.floorMod(attempt, endpoints.size()));
        } finally {
          lock.unlock();
        }
        if (reconnect) {
          attempt = 0;
          backoffNanos = settings.backoffMin().toNanos();
          heldBack = null;
          if (stream != null) {
            LOG.log(System.Logger.Level.INFO, "peer {0}: URLs changed, reconnecting", hex(peerId));
            stream.finish();
            stream = null;
            closeChannel(false);
          }
          continue;
        }

        if (stream == null) {
          String failure = connect(ep);
          if (failure != null) {
            if (isStopping()) {
              continue;
            }
            lastFailure = failed(failure, lastFailure);
            attempt++;
            awaitBackoff(backoffNanos);
            backoffNanos = Math.min(backoffNanos * 2, settings.backoffMax().toNanos());
            continue;
          }
          stream = openStream(ep);
          if (!active) {
            activeSinceNanos = nanos.getAsLong();
            active = true;
            lastFailure = null;
            LOG.log(System.Logger.Level.INFO, "peer {0} became active ({1})", hex(peerId), ep.url());
          }
        }

        List<Message> batch = takeBatch(stream);
        if (batch != null) {
          try {
            send(stream, batch);
          } finally {
            doneSending();
          }
          continue;
        }
        Status broken = stream.broken();
        if (broken != null && !isStopping()) {
          checkRemoved(broken);
          boolean carriedTraffic = stream.sentBatches > 0 && broken.getCode() != Status.Code.FAILED_PRECONDITION;
          stream = null;
          heldBack = null;
          closeChannel(true);
          String tls = security.tlsFailure(broken.getCause());
          lastFailure = failed("stream broke: " + (tls == null ? describe(broken) : tls + " (" + describe(broken) + ")"),
              lastFailure);
          if (carriedTraffic) {
            backoffNanos = settings.backoffMin().toNanos();
          }
          awaitBackoff(backoffNanos);
          backoffNanos = Math.min(backoffNanos * 2, settings.backoffMax().toNanos());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.ERROR, "peer " + hex(peerId) + ": sender failed; messages to it are dropped", e);
      throw e;
    } finally {
      if (stream != null) {
        stream.finish();
      }
      closeChannel(true);
      active = false;
      lock.lock();
      try {
        stopping = true;
      } finally {
        lock.unlock();
      }
      dropQueued();
    }
  }

  private boolean isStopping() {
    lock.lock();
    try {
      return stopping;
    } finally {
      lock.unlock();
    }
  }

  /** Logs a failure when it is news, drops the queue and reports the peer; returns the failure. */
  private String failed(String failure, String lastFailure) {
    if (active || !failure.equals(lastFailure)) {
      LOG.log(System.Logger.Level.WARNING, "peer {0} became inactive: {1}", hex(peerId), failure);
    }
    if (active) {
      counters.disconnected();
    }
    active = false;
    dropQueued();
    report(() -> reports.unreachable(peerId));
    return failure;
  }

  /** Opens a channel to {@code ep} and probes the peer; null when it is the expected member. */
  private String connect(Endpoint ep) {
    NettyChannelBuilder b = ep.channelBuilder(domainGroup)
        .directExecutor()
        // Retries would keep every message of the stream in a replay buffer.
        .disableRetry()
        .keepAliveTime(settings.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(settings.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveWithoutCalls(true);
    security.configure(b, ep);
    ManagedChannel ch = b.build();
    channel = ch;
    // stop() sets the flag, then cuts the published channel; checking after publishing closes the race.
    if (isStopping()) {
      closeChannel(true);
      return "stopping";
    }
    try {
      long probed = nanos.getAsLong();
      ProbeResponse r = RaftPeerGrpc.newBlockingStub(ch)
          .withDeadlineAfter(settings.dialTimeout().toMillis(), TimeUnit.MILLISECONDS)
          .probe(ProbeRequest.newBuilder().setClusterId(clusterId).setFrom(selfId).setTo(peerId).build());
      counters.roundTrip(nanos.getAsLong() - probed);
      if (r.getClusterId() != clusterId) {
        closeChannel(true);
        return ep.url() + ": cluster ID mismatch (local " + hex(clusterId) + ", remote " + hex(r.getClusterId()) + ")";
      }
      if (r.getMemberId() != peerId) {
        closeChannel(true);
        return ep.url() + ": member " + hex(r.getMemberId()) + " answered instead";
      }
      return null;
    } catch (StatusRuntimeException e) {
      closeChannel(true);
      checkRemoved(e.getStatus());
      String tls = security.tlsFailure(e);
      return ep.url() + ": " + (tls == null ? describe(e.getStatus()) : tls + " (" + describe(e.getStatus()) + ")");
    }
  }

  private OutboundRaftStream openStream(Endpoint ep) {
    ProbeRequest hello = ProbeRequest.newBuilder().setClusterId(clusterId).setFrom(selfId).setTo(peerId).build();
    return OutboundRaftStream.open(dialer, ep, hello, settings, this::signal);
  }

  private void closeChannel(boolean now) {
    ManagedChannel ch = channel;
    channel = null;
    if (ch != null) {
      if (now) {
        ch.shutdownNow();
      } else {
        // Lets a half-closed stream finish on its own.
        ch.shutdown();
      }
    }
  }

  /**
   * Waits until queued messages can be sent and takes a batch of them, or returns null when the
   * stream broke, the URLs changed or the sender stops.
   */
  private List<Message> takeBatch(OutboundRaftStream stream) throws InterruptedException {
    lock.lock();
    try {
      current = stream;
      while (!stopping && !endpointsChanged && stream.broken() == null
          && (sending || queue.isEmpty() || !stream.isReady())) {
        wake.await();
      }
      if (stopping || endpointsChanged || stream.broken() != null) {
        current = null;
        // A caller may still be writing its batch: the stream is finished only after it.
        while (sending) {
          wake.await();
        }
        return null;
      }
      sending = true;
      return drainBatch();
    } finally {
      lock.unlock();
    }
  }

  /** Takes up to {@code batchBytesMax} of queued messages (at least one). Holding the lock. */
  private List<Message> drainBatch() {
    List<Message> batch = new ArrayList<>();
    long bytes = 0;
    while (!queue.isEmpty()) {
      long size = MessageCodec.wireBytesAtMost(queue.peekFirst());
      if (!batch.isEmpty() && bytes + size > settings.batchBytesMax()) {
        break;
      }
      batch.add(queue.pollFirst());
      bytes += size;
    }
    return batch;
  }

  private void send(OutboundRaftStream stream, List<Message> batch) {
    if (Failpoints.ENABLED) {
      batch = faulty(batch);
    }
    MessageBatch.Builder b = MessageBatch.newBuilder().setClusterId(clusterId).setFrom(selfId);
    int messageBytesMax = settings.messageBytesMax() - BATCH_FRAMING_BYTES;
    for (Message m : batch) {
      if (m.type() == MessageType.SNAP) {
        // Snapshots travel on their own call, with the state machine's data, after what came before.
        if (b.getMessagesCount() > 0) {
          sendBatch(stream, b.build());
          b = MessageBatch.newBuilder().setClusterId(clusterId).setFrom(selfId);
        }
        sendSnapshot(m);
        continue;
      }
      io.kvorum.proto.raftpb.Message pm;
      try {
        pm = MessageCodec.encode(m);
      } catch (IllegalArgumentException e) {
        LOG.log(System.Logger.Level.ERROR, "peer " + hex(peerId) + ": dropped a message that cannot be sent", e);
        dropped(List.of(m), e.getMessage());
        continue;
      }
      // Its length prefix inside the batch is counted by wireBytesAtMost, not by this check.
      if (pm.getSerializedSize() > messageBytesMax) {
        dropped(List.of(m), "it is " + pm.getSerializedSize() + " bytes, more than a peer accepts ("
            + settings.messageBytesMax() + ")");
        continue;
      }
      b.addMessages(pm);
    }
    if (b.getMessagesCount() > 0) {
      sendBatch(stream, b.build());
    }
  }

  /**
   * {@code batch} as the peer failpoints make it: after a delay, without the messages lost, with
   * a held-back message after the one that followed it. Sender thread only.
   */
  private List<Message> faulty(List<Message> batch) {
    Failpoints.hit(Failpoint.PEER_SEND_DELAY);
    List<Message> out = new ArrayList<>(batch.size() + 1);
    for (Message m : batch) {
      if (m.type() == MessageType.SNAP) {
        out.add(m);
        continue;
      }
      if (Failpoints.on(Failpoint.PEER_SEND_DROP)) {
        continue;
      }
      if (heldBack == null && Failpoints.on(Failpoint.PEER_SEND_REORDER)) {
        heldBack = m;
        continue;
      }
      out.add(m);
      if (heldBack != null) {
        out.add(heldBack);
        heldBack = null;
      }
    }
    return out;
  }

  private void sendBatch(OutboundRaftStream stream, MessageBatch batch) {
    stream.send(batch);
    counters.sent(batch.getSerializedSize());
  }

  /** How long a snapshot transfer may take in all. */
  private static final long SNAPSHOT_DEADLINE_MS = TimeUnit.HOURS.toMillis(1);

  /**
   * Streams snapshot message {@code m} with the state machine's data on the sender thread (this
   * peer's other messages wait; raft sends it nothing but heartbeats meanwhile), one chunk at a
   * time as gRPC's flow control allows, then reports the outcome to raft.
   */
  private void sendSnapshot(Message m) {
    ManagedChannel ch = channel;
    boolean failed = true;
    long start = nanos.getAsLong();
    long bytes = 0;
    try (SnapshotStreams.Reader reader = snapshots.open(m.snapshot())) {
      if (ch == null) {
        throw new IOException("not connected");
      }
      CompletableFuture<Void> acked = new CompletableFuture<>();
      Object ready = new Object();
      AtomicReference<ClientCallStreamObserver<SnapshotChunk>> call = new AtomicReference<>();
      RaftPeerGrpc.newStub(ch).withDeadlineAfter(SNAPSHOT_DEADLINE_MS, TimeUnit.MILLISECONDS)
          // Keeps up to half the peer's window queued, so the peer never waits for the next chunk.
          .withOnReadyThreshold(PeerServer.SNAPSHOT_WINDOW_BYTES / 2)
          .snapshot(new ClientResponseObserver<SnapshotChunk, SnapshotAck>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<SnapshotChunk> r) {
              call.set(r);
              r.setOnReadyHandler(() -> {
                synchronized (ready) {
                  ready.notifyAll();
                }
              });
            }

            @Override
            public void onNext(SnapshotAck value) {
              acked.complete(null);
            }

            @Override
            public void onError(Throwable t) {
              acked.completeExceptionally(t);
              synchronized (ready) {
                ready.notifyAll();
              }
            }

            @Override
            public void onCompleted() {
              acked.complete(null);
            }
          });
      ClientCallStreamObserver<SnapshotChunk> requests = call.get();
      LOG.log(System.Logger.Level.INFO, "peer {0}: sending snapshot at index {1}", hex(peerId), m.snapshot().index());
      requests.onNext(SnapshotChunk.newBuilder().setClusterId(clusterId).setFrom(selfId)
          .setMessage(MessageCodec.encode(m)).build());
      ByteString chunk;
      while ((chunk = reader.next()) != null) {
        synchronized (ready) {
          while (!requests.isReady() && !acked.isDone() && !isStopping()) {
            ready.wait(100);
          }
        }
        if (acked.isDone() || isStopping()) {
          break;
        }
        requests.onNext(SnapshotChunk.newBuilder().setData(chunk).build());
        bytes += chunk.size();
        counters.sent(chunk.size());
        Failpoints.hit(Failpoint.SNAPSHOT_SEND_MID);
      }
      if (isStopping()) {
        requests.cancel("stopping", null);
        return;
      }
      if (!acked.isDone()) {
        requests.onCompleted();
      }
      acked.get(SNAPSHOT_DEADLINE_MS, TimeUnit.MILLISECONDS);
      failed = false;
      LOG.log(System.Logger.Level.INFO, "peer {0}: sent snapshot at index {1} ({2} bytes in {3} ms)", hex(peerId),
          m.snapshot().index(), bytes, TimeUnit.NANOSECONDS.toMillis(nanos.getAsLong() - start));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      Throwable t = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      LOG.log(System.Logger.Level.WARNING, "peer {0}: snapshot at index {1} not sent: {2}", hex(peerId),
          m.snapshot().index(), t.toString());
    } finally {
      boolean f = failed;
      report(() -> reports.snapshotStatus(peerId, f));
    }
  }

  private void checkRemoved(Status st) {
    if (st.getCode() == Status.Code.FAILED_PRECONDITION && PeerServer.REMOVED_MEMBER.equals(st.getDescription())) {
      report(reports::removed);
    }
  }

  private void awaitBackoff(long nanos) throws InterruptedException {
    lock.lock();
    try {
      long left = nanos;
      while (left > 0 && !stopping && !endpointsChanged) {
        left = wake.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  private void dropQueued() {
    List<Message> stale;
    lock.lock();
    try {
      if (queue.isEmpty()) {
        return;
      }
      stale = new ArrayList<>(queue);
      queue.clear();
    } finally {
      lock.unlock();
    }
    dropped.addAndGet(stale.size());
    counted(stale);
    reportSnapshotFailures(stale);
  }

  /** Counts and reports messages dropped before they reached the wire. */
  private void dropped(List<Message> messages, String why) {
    long before = dropped.getAndAdd(messages.size());
    // Logged when the total crosses a power of two: a few lines for a long outage, not one per drop.
    if (Long.numberOfLeadingZeros(before) != Long.numberOfLeadingZeros(before + messages.size())) {
      LOG.log(System.Logger.Level.WARNING, "peer {0}: dropped {1} message(s) ({2} in all): {3}", hex(peerId), messages.size(),
          before + messages.size(), why);
    }
    counted(messages);
    reportSnapshotFailures(messages);
    report(() -> reports.unreachable(peerId));
  }

  /** Tells the metrics about dropped messages, and how many of them were heartbeats. */
  private void counted(List<Message> messages) {
    int heartbeats = 0;
    for (Message m : messages) {
      if (m.type() == MessageType.HEARTBEAT) {
        heartbeats++;
      }
    }
    counters.dropped(messages.size(), heartbeats);
  }

  private void reportSnapshotFailures(List<Message> messages) {
    for (Message m : messages) {
      if (m.type() == MessageType.SNAP) {
        report(() -> reports.snapshotStatus(peerId, true));
      }
    }
  }

  /** Runs a report; a failing one (the raft loop's inbox full, say) must not kill the sender. */
  private void report(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "peer " + hex(peerId) + ": report not delivered", e);
    }
  }

  private void signal() {
    lock.lock();
    try {
      wake.signal();
    } finally {
      lock.unlock();
    }
  }

  private static String describe(Status s) {
    return s.getDescription() == null ? s.getCode().toString() : s.getCode() + " " + s.getDescription();
  }

  static String hex(long id) {
    return Long.toHexString(id);
  }
}
