package io.kvorum.server.transport;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.raftpb.ForwardRequest;
import io.kvorum.proto.raftpb.ForwardResponse;
import io.kvorum.proto.raftpb.RaftPeerGrpc;
import io.kvorum.raft.Message;
import io.kvorum.server.replication.Outbox;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A member's raft transport: sends the raft loop's messages to peers (on raft streams,
 * {@link RaftStreams}; probes, forwarded calls and snapshots over gRPC) and delivers what peers send
 * to it.
 *
 * <p><b>Sending.</b> {@link #send} groups messages by destination and appends each group to that
 * peer's bounded queue ({@link TransportSettings#peerQueueMessagesMax()}); it takes one short lock
 * per peer and never blocks or does I/O, so the raft thread can call it. Per peer, one
 * {@link PeerSender} thread batches the queue into a single long-lived client stream, so messages
 * to one peer arrive in the order they were sent (some may be dropped, none reordered). Dropped
 * messages and connection failures are reported through {@code unreachable} (the raft loop turns
 * that into {@code reportUnreachable}), snapshot outcomes through {@code snapshotStatus}. Messages
 * to members that are not peers are dropped.
 *
 * <p><b>Receiving.</b> {@link #listen} starts a {@link PeerServer} on the member's peer URLs that
 * hands accepted messages to {@code inbound}, which must not block.
 *
 * <p><b>Threads.</b> One sender thread per peer (clusters have a handful of members), one event loop
 * thread for the raft streams this member dials, plus gRPC's shared netty event loops; unix sockets
 * get one small epoll event loop per transport for gRPC, created on first use.
 */
public final class PeerTransport implements Outbox, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(PeerTransport.class.getName());
  /** How long removing a peer or closing waits for a sender thread to end. */
  private static final long SENDER_JOIN_MS = 5_000;

  /** Receives the outcome of sending a snapshot, as {@code RawNode.reportSnapshot} takes it. */
  @FunctionalInterface
  public interface SnapshotStatus {
    void report(long peerId, boolean failed);
  }

  private final long selfId;
  private final long clusterId;
  private final Consumer<Message> inbound;
  private final PeerSecurity security;
  private final TransportSettings settings;
  private final PeerSender.Reports reports;
  private final Map<Long, PeerSender> peers = new ConcurrentHashMap<>();
  private final List<PeerServer> servers = new ArrayList<>();
  private EventLoopGroup domainGroup;
  private final StreamDialer dialer;
  private boolean closed;
  private volatile ForwardHandler forwards = ForwardHandler.NONE;
  private volatile java.util.function.LongSupplier nanos = io.kvorum.server.clock.SystemClock::nanosNow;
  private volatile java.util.function.LongPredicate removedMembers = id -> false;
  private volatile Runnable onRemoved = () -> { };
  private volatile SnapshotStreams.Source snapshotSource = SnapshotStreams.NO_DATA;
  private volatile SnapshotStreams.Receiver snapshotReceiver = SnapshotStreams.DISCARD;
  private volatile PeerObserver observer = PeerObserver.NONE;

  /**
   * @param inbound receives every message peers send to this member; must not block
   * @param unreachable told the id of a peer that could not be reached or whose messages were
   *     dropped; must not block
   * @param snapshotStatus told whether a snapshot message went out; must not block
   */
  public PeerTransport(long selfId, long clusterId, Consumer<Message> inbound, LongConsumer unreachable,
      SnapshotStatus snapshotStatus, PeerSecurity security, TransportSettings settings) {
    if (selfId == 0) {
      throw new IllegalArgumentException("member id must not be 0");
    }
    this.selfId = selfId;
    this.clusterId = clusterId;
    this.inbound = inbound;
    this.security = security;
    this.settings = settings;
    this.dialer = new StreamDialer("kvorum-peer-stream-" + Long.toHexString(selfId), security);
    this.reports = new PeerSender.Reports() {
      @Override
      public void unreachable(long peerId) {
        unreachable.accept(peerId);
      }

      @Override
      public void snapshotStatus(long peerId, boolean failed) {
        snapshotStatus.report(peerId, failed);
      }

      @Override
      public void removed() {
        onRemoved.run();
      }
    };
  }

  /** The wait before a joining member asks its peers for the cluster again. */
  static final java.time.Duration JOIN_RETRY = java.time.Duration.ofMillis(200);

  /** The cluster a joining member learns from a peer. */
  public record RemoteCluster(long clusterId, List<io.kvorum.server.membership.Member> members) {}

  /**
   * Asks the members at {@code peerUrls}, in turn, for their cluster until one answers with a
   * cluster {@code accepted} takes or {@code timeout} passes (etcd's GetClusterFromRemotePeers, which
   * takes the first answer). A joining member takes only a cluster that lists it: a peer that has
   * not yet applied the member's addition (the client's member add was answered by another one)
   * is asked again rather than believed.
   *
   * @return the first accepted answer, or at the timeout the last answer received
   * @throws IOException when none answered
   */
  public static RemoteCluster fetchCluster(List<URI> peerUrls, PeerSecurity security, java.time.Duration timeout,
      io.kvorum.server.clock.Clock clock, java.util.function.Predicate<RemoteCluster> accepted) throws IOException {
    long deadline = clock.nanos() + timeout.toNanos();
    String last = "no peer URLs to ask";
    RemoteCluster answered = null;
    EventLoopGroup group = null;
    try {
      while (true) {
        for (URI url : peerUrls) {
          Endpoint ep;
          try {
            security.checkScheme(url);
            ep = Endpoint.parse(url);
          } catch (RuntimeException e) {
            last = url + ": " + e.getMessage();
            continue;
          }
          if (ep.isDomainSocket() && group == null) {
            group = Endpoint.newDomainSocketGroup("kvorum-join-uds");
          }
          EventLoopGroup g = group;
          var b = ep.channelBuilder(() -> g).directExecutor().disableRetry();
          security.configure(b, ep);
          ManagedChannel ch = b.build();
          try {
            io.kvorum.proto.raftpb.MembersResponse r = RaftPeerGrpc.newBlockingStub(ch)
                .withDeadlineAfter(2, TimeUnit.SECONDS).members(io.kvorum.proto.raftpb.MembersRequest.getDefaultInstance());
            List<io.kvorum.server.membership.Member> members = new ArrayList<>();
            for (io.kvorum.proto.raftpb.MemberInfo m : r.getMembersList()) {
              members.add(new io.kvorum.server.membership.Member(m.getId(), m.getName(), m.getPeerUrlsList(),
                  List.of(), m.getIsLearner()));
            }
            RemoteCluster rc = new RemoteCluster(r.getClusterId(), members);
            if (accepted.test(rc)) {
              return rc;
            }
            answered = rc;
            last = url + ": its cluster does not list this member yet";
          } catch (StatusRuntimeException e) {
            last = url + ": " + e.getStatus();
          } finally {
            ch.shutdownNow();
          }
        }
        if (clock.nanos() - deadline > 0) {
          if (answered != null) {
            return answered;
          }
          throw new IOException("cannot fetch cluster info from peer urls: " + last);
        }
        CompletableFuture<Void> retry = new CompletableFuture<>();
        clock.schedule(JOIN_RETRY, () -> retry.complete(null));
        try {
          retry.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while fetching cluster info", e);
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IOException(e.getCause());
        }
      }
    } finally {
      if (group != null) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
    }
  }

  /** Where snapshots' data comes from and goes to; set them before {@link #listen} and {@link #addPeer}. */
  public void serveSnapshots(SnapshotStreams.Source source, SnapshotStreams.Receiver receiver) {
    this.snapshotSource = source;
    this.snapshotReceiver = receiver;
  }

  /**
   * Members removed from the cluster are refused (so they learn it and stop), and {@code onRemoved}
   * runs when a peer says this member was removed. Set before {@link #listen}.
   */
  public void handleRemoved(java.util.function.LongPredicate isRemoved, Runnable onRemoved) {
    this.removedMembers = isRemoved;
    this.onRemoved = onRemoved;
  }

  /**
   * Where the transport reads the time (when each peer's stream became active); set it before
   * {@link #addPeer}. The member's clock; the system's by default.
   */
  public void readTimeFrom(java.util.function.LongSupplier nanos) {
    this.nanos = nanos;
  }

  /** Serves requests peers forward here; set it before {@link #listen}. */
  public void serveForwards(ForwardHandler handler) {
    this.forwards = handler;
  }

  /**
   * Sends a call to member {@code peerId}'s {@link ForwardHandler} over the connection raft
   * messages use, and completes with its answer (which may carry an etcd error). Fails with a
   * {@link ForwardException} when the peer is not connected, did not answer within {@code
   * timeoutMillis} or could not serve it (callers retry those).
   */
  public CompletableFuture<ForwardResponse> forward(long peerId, ForwardRequest call, long timeoutMillis) {
    PeerSender sender = peers.get(peerId);
    ManagedChannel ch = sender == null ? null : sender.connectedChannel();
    if (ch == null) {
      return CompletableFuture.failedFuture(new ForwardException("member " + Long.toHexString(peerId)
          + " is not connected"));
    }
    CompletableFuture<ForwardResponse> out = new CompletableFuture<>();
    ForwardRequest req = call.toBuilder().setClusterId(clusterId).build();
    RaftPeerGrpc.newStub(ch).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)
        .forward(req, new StreamObserver<ForwardResponse>() {
          @Override
          public void onNext(ForwardResponse r) {
            out.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(new ForwardException("forward to " + Long.toHexString(peerId) + " failed: "
                + Status.fromThrowable(t)));
          }

          @Override
          public void onCompleted() {
            out.completeExceptionally(new ForwardException("member " + Long.toHexString(peerId) + " sent no answer"));
          }
        });
    return out;
  }

  /** Serves peer traffic on {@code listenUrls} until {@link #close()}; see {@link PeerServer#start}. */
  public PeerServer listen(List<URI> listenUrls) throws IOException {
    PeerServer server = PeerServer.start(listenUrls, selfId, clusterId, inbound, forwards, snapshotReceiver, security,
        settings);
    server.refuseRemoved(removedMembers);
    server.observe(observer);
    synchronized (this) {
      if (closed) {
        server.close();
        throw new IllegalStateException("transport closed");
      }
      servers.add(server);
    }
    return server;
  }

  /**
   * Starts sending to member {@code id} at {@code peerUrls} (tried in turn when one fails). Adding a
   * known peer updates its URLs.
   *
   * @throws IllegalArgumentException for this member's own id, no URLs or an unusable URL
   */
  public synchronized void addPeer(long id, List<URI> peerUrls) {
    List<Endpoint> endpoints = endpoints(id, peerUrls);
    if (closed) {
      throw new IllegalStateException("transport closed");
    }
    PeerSender existing = peers.get(id);
    if (existing != null) {
      existing.update(endpoints);
      return;
    }
    SnapshotStreams.Source source = snapshotSource;
    PeerSender sender = new PeerSender(selfId, clusterId, id, endpoints, security, settings, nanos, this::domainGroup, dialer, reports,
        source);
    sender.observe(observer.peer(id));
    peers.put(id, sender);
    sender.start();
  }

  /** Reconnects to member {@code id} at its new URLs; queued messages are kept. */
  public synchronized void updatePeer(long id, List<URI> peerUrls) {
    List<Endpoint> endpoints = endpoints(id, peerUrls);
    PeerSender sender = peers.get(id);
    if (sender == null) {
      throw new IllegalArgumentException("member " + Long.toHexString(id) + " is not a peer");
    }
    sender.update(endpoints);
  }

  /** Stops sending to member {@code id}; what is queued for it is dropped. No-op for an unknown id. */
  public void removePeer(long id) {
    PeerSender sender;
    synchronized (this) {
      sender = peers.remove(id);
    }
    if (sender != null) {
      sender.stop();
      sender.awaitStopped(SENDER_JOIN_MS);
    }
  }

  /** The members this transport sends to. */
  public List<Long> peerIds() {
    return List.copyOf(peers.keySet());
  }

  public boolean hasPeer(long id) {
    return peers.containsKey(id);
  }

  @Override
  public void send(List<Message> messages) {
    if (messages.size() == 1) {
      Message m = messages.get(0);
      offer(m.to(), messages);
      return;
    }
    Map<Long, List<Message>> byPeer = new LinkedHashMap<>();
    for (Message m : messages) {
      byPeer.computeIfAbsent(m.to(), k -> new ArrayList<>()).add(m);
    }
    for (Map.Entry<Long, List<Message>> e : byPeer.entrySet()) {
      offer(e.getKey(), e.getValue());
    }
  }

  private void offer(long to, List<Message> messages) {
    PeerSender sender = peers.get(to);
    if (sender != null) {
      sender.offer(messages);
    } else {
      LOG.log(System.Logger.Level.DEBUG, "dropped {0} message(s) to unknown member {1}", messages.size(),
          Long.toHexString(to));
    }
  }

  /** Messages waiting for {@code id}, 0 for an unknown peer. */
  int queuedMessages(long id) {
    PeerSender s = peers.get(id);
    return s == null ? 0 : s.queued();
  }

  /** Messages to {@code id} dropped so far (queue full, peer unreachable, too large). */
  long droppedMessages(long id) {
    PeerSender s = peers.get(id);
    return s == null ? 0 : s.droppedMessages();
  }

  /**
   * Since when (the member clock) a stream to member {@code id} has been open; empty while none is
   * (etcd's {@code ActiveSince}, which the reconfiguration checks use).
   */
  public java.util.OptionalLong activeSince(long id) {
    PeerSender s = peers.get(id);
    return s == null ? java.util.OptionalLong.empty() : s.activeSince();
  }

  /**
   * Reports each peer's traffic to {@code o}: set before the transport listens and adds peers (what
   * is set up before keeps the previous observer).
   */
  public void observe(PeerObserver o) {
    observer = o;
  }

  /** True while a stream to {@code id} is open. */
  public boolean isActive(long id) {
    PeerSender s = peers.get(id);
    return s != null && s.isActive();
  }

  private List<Endpoint> endpoints(long id, List<URI> peerUrls) {
    if (id == 0 || id == selfId) {
      throw new IllegalArgumentException("cannot add member " + Long.toHexString(id) + " as a peer of itself");
    }
    if (peerUrls.isEmpty()) {
      throw new IllegalArgumentException("member " + Long.toHexString(id) + " has no peer URLs");
    }
    List<Endpoint> endpoints = new ArrayList<>(peerUrls.size());
    Set<URI> seen = new HashSet<>();
    for (URI url : peerUrls) {
      security.checkScheme(url);
      if (seen.add(url)) {
        endpoints.add(Endpoint.parse(url));
      }
    }
    return endpoints;
  }

  private synchronized EventLoopGroup domainGroup() {
    if (domainGroup == null) {
      domainGroup = Endpoint.newDomainSocketGroup("kvorum-peer-uds-" + Long.toHexString(selfId));
    }
    return domainGroup;
  }

  @Override
  public void close() {
    List<PeerSender> senders;
    List<PeerServer> toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      senders = new ArrayList<>(peers.values());
      peers.clear();
      toClose = new ArrayList<>(servers);
      servers.clear();
    }
    for (PeerSender s : senders) {
      s.stop();
    }
    for (PeerSender s : senders) {
      s.awaitStopped(SENDER_JOIN_MS);
    }
    for (PeerServer s : toClose) {
      s.close();
    }
    dialer.close();
    EventLoopGroup group;
    synchronized (this) {
      group = domainGroup;
    }
    if (group != null) {
      group.shutdownGracefully(0, SENDER_JOIN_MS, TimeUnit.MILLISECONDS);
    }
  }
}
