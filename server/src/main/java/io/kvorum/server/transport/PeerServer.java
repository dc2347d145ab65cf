package io.kvorum.server.transport;

import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.raftpb.ForwardRequest;
import io.kvorum.proto.raftpb.ForwardResponse;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.ProbeResponse;
import io.kvorum.proto.raftpb.RaftPeerGrpc;
import io.kvorum.raft.Message;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The receiving side of the peer transport: on a member's peer listen URLs, accepts raft streams
 * ({@link RaftStreams}: every raft message peers send, checked by {@link InboundRaftStream} and
 * handed to the inbound consumer) and serves the {@code RaftPeer} gRPC service (probes, forwarded
 * calls, the cluster for a joining member, snapshots), the two told apart per connection by
 * {@link StreamSniffer}.
 *
 * <p><b>Threads.</b> Both run on gRPC's netty event loop threads (gRPC handlers with the direct
 * executor): decoding is cheap and the consumer must not block (the raft loop's {@code receive}
 * drops when its inbox is full), so no thread pool is needed; a stream's next frame is read only
 * after the previous one was handed over. One gRPC server is bound per listen URL (TCP and domain
 * sockets need different netty channel types), all sharing one service.
 */
public final class PeerServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(PeerServer.class.getName());
  /** How long {@link #close()} waits for the cut connections to be released. */
  private static final long CLOSE_WAIT_MS = 5_000;

  private final long selfId;
  private final long clusterId;
  private final Consumer<Message> inbound;
  private final ForwardHandler forwards;
  /** Members removed from the cluster: their probes and streams are refused with {@link #REMOVED_MEMBER}. */
  private volatile java.util.function.LongPredicate removed = id -> false;
  /** What a removed member is told when it calls (etcd's peers answer it 410 Gone). */
  public static final String REMOVED_MEMBER = "the member has been permanently removed from the cluster";
  /** The HTTP/2 flow-control window of every peer stream, sized for snapshot chunks in flight. */
  static final int SNAPSHOT_WINDOW_BYTES = 8 * 1024 * 1024;
  private final SnapshotStreams.Receiver snapshots;
  private final List<Server> servers = new ArrayList<>();
  private final List<URI> urls = new ArrayList<>();
  private final List<Path> socketFiles = new ArrayList<>();
  private EventLoopGroup domainGroup;
  /** Open raft streams accepted by this server. */
  private final Set<Channel> streams = ConcurrentHashMap.newKeySet();
  private volatile PeerObserver observer = PeerObserver.NONE;

  private PeerServer(long selfId, long clusterId, Consumer<Message> inbound, ForwardHandler forwards,
      SnapshotStreams.Receiver snapshots) {
    this.snapshots = snapshots;
    this.selfId = selfId;
    this.clusterId = clusterId;
    this.inbound = inbound;
    this.forwards = forwards;
  }

  /**
   * Binds every URL of {@code listenUrls} ({@code http://host:port}, port 0 for any free one, or
   * {@code unix://path}) and starts serving.
   *
   * @throws IOException when a URL cannot be bound; nothing stays bound then
   */
  public static PeerServer start(List<URI> listenUrls, long selfId, long clusterId, Consumer<Message> inbound,
      PeerSecurity security, TransportSettings settings) throws IOException {
    return start(listenUrls, selfId, clusterId, inbound, ForwardHandler.NONE, SnapshotStreams.DISCARD, security, settings);
  }

  /** As {@link #start(List, long, long, Consumer, PeerSecurity, TransportSettings)}, serving forwarded requests too. */
  public static PeerServer start(List<URI> listenUrls, long selfId, long clusterId, Consumer<Message> inbound,
      ForwardHandler forwards, SnapshotStreams.Receiver snapshots, PeerSecurity security, TransportSettings settings)
      throws IOException {
    if (listenUrls.isEmpty()) {
      throw new IllegalArgumentException("at least one peer listen URL is needed");
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (URI url : listenUrls) {
      security.checkScheme(url);
      endpoints.add(Endpoint.parse(url));
    }
    PeerServer ps = new PeerServer(selfId, clusterId, inbound, forwards, snapshots);
    Service service = ps.new Service();
    try {
      for (Endpoint ep : endpoints) {
        if (ep.isDomainSocket()) {
          // etcd removes a stale socket file before listening, so a restarted member can bind.
          Files.deleteIfExists(ep.socketPath());
        }
        PeerSecurity.ServerSide side = security.serverSide(ep);
        ServerCredentials credentials = InternalNettyServerCredentials.create(
            StreamSniffer.wrap(side.grpc(), (pipeline, after) -> ps.acceptStream(pipeline, after, side, settings)));
        NettyServerBuilder b = ep.serverBuilder(ps::domainGroup, credentials)
            .addService(service)
            .directExecutor()
            .maxInboundMessageSize(settings.messageBytesMax())
            // Room for several snapshot chunks in flight: the sender reads and sends the next ones
            // while this member stores the last (with gRPC's 1 MiB the two took turns).
            .flowControlWindow(SNAPSHOT_WINDOW_BYTES)
            .keepAliveTime(settings.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
            .keepAliveTimeout(settings.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
            // Senders ping every keepAliveTime; allow that with some slack, even between streams.
            .permitKeepAliveTime(settings.keepAliveTime().toMillis() / 2, TimeUnit.MILLISECONDS)
            .permitKeepAliveWithoutCalls(true)
            .handshakeTimeout(settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        if (!ep.isDomainSocket()) {
          // A restarted member rebinds its port while old connections linger in TIME_WAIT.
          b.withOption(ChannelOption.SO_REUSEADDR, true);
        }
        Server server = b.build().start();
        ps.servers.add(server);
        if (ep.isDomainSocket()) {
          ps.socketFiles.add(ep.socketPath());
          ps.urls.add(ep.url());
        } else {
          ps.urls.add(withPort(ep.url(), server.getPort()));
        }
        LOG.log(System.Logger.Level.INFO, "member {0} serving peer traffic on {1}",
            Long.toHexString(selfId), ps.urls.get(ps.urls.size() - 1));
      }
    } catch (IOException | RuntimeException e) {
      ps.close();
      throw e;
    }
    return ps;
  }

  /**
   * Why a peer that says it is member {@code from} of cluster {@code cluster} and expects to reach
   * member {@code to} (0: any) is turned away, as etcd's peer handlers check, logged as a rejected
   * {@code what}; null when it is welcome.
   */
  Status refusal(long cluster, long from, long to, String what) {
    Status refused;
    if (cluster != clusterId) {
      refused = Status.FAILED_PRECONDITION.withDescription("cluster ID mismatch");
    } else if (removed.test(from)) {
      refused = Status.FAILED_PRECONDITION.withDescription(REMOVED_MEMBER);
    } else if (to != 0 && to != selfId) {
      refused = Status.FAILED_PRECONDITION.withDescription("to field mismatch");
    } else {
      return null;
    }
    LOG.log(System.Logger.Level.WARNING, "rejected {0} from member {1} of cluster {2} for member {3} (this is member {4} of "
        + "cluster {5}): {6}", what, Long.toHexString(from), Long.toHexString(cluster), Long.toHexString(to),
        Long.toHexString(selfId), Long.toHexString(clusterId), refused.getDescription());
    return refused;
  }

  /** Sets a raft stream up on a connection that opened with {@link RaftStreams#MAGIC}; on its event loop. */
  private void acceptStream(ChannelPipeline pipeline, String after, PeerSecurity.ServerSide side,
      TransportSettings settings) {
    Channel ch = pipeline.channel();
    SslHandler tls = side.tlsHandler(ch.alloc());
    String last = after;
    if (tls != null) {
      StreamSniffer.logFailedHandshake(ch, tls);
      pipeline.addAfter(last, "raft-tls", tls);
      last = "raft-tls";
    }
    pipeline.addAfter(last, "raft-frames", RaftStreams.frameDecoder(settings.messageBytesMax()));
    pipeline.addAfter("raft-frames", "raft-stream", new InboundRaftStream(selfId, this::refusal, inbound,
        settings.keepAliveTime(), observer));
    // gRPC does not know these connections as its own: close() cuts them.
    streams.add(ch);
    ch.closeFuture().addListener(f -> streams.remove(ch));
  }

  /** Reports the bytes of raft streams accepted from now on to {@code o}. */
  void observe(PeerObserver o) {
    observer = o;
  }

  /** Sets which members are removed from the cluster. */
  void refuseRemoved(java.util.function.LongPredicate isRemoved) {
    this.removed = isRemoved;
  }

  /** The URLs served, with the ports actually bound. */
  public List<URI> urls() {
    return List.copyOf(urls);
  }

  private synchronized EventLoopGroup domainGroup() {
    if (domainGroup == null) {
      domainGroup = Endpoint.newDomainSocketGroup("kvorum-peer-server-uds");
    }
    return domainGroup;
  }

  @Override
  public void close() {
    // Peer streams never end on their own, so a graceful shutdown would only wait; whatever is in
    // flight is lost, which raft tolerates.
    for (Server s : servers) {
      s.shutdownNow();
    }
    for (Channel ch : streams) {
      ch.close();
    }
    for (Server s : servers) {
      try {
        s.awaitTermination(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (domainGroup != null) {
        domainGroup.shutdownGracefully(0, CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
      }
    }
    for (Path p : socketFiles) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot remove peer socket file " + p, e);
      }
    }
  }

  private static URI withPort(URI url, int port) {
    try {
      return new URI(url.getScheme(), null, url.getHost(), port, null, null, null);
    } catch (URISyntaxException e) {
      throw new UncheckedIOException(new IOException("cannot build a URL from " + url, e));
    }
  }

  private final class Service extends RaftPeerGrpc.RaftPeerImplBase {
    @Override
    public void probe(ProbeRequest req, StreamObserver<ProbeResponse> responses) {
      Status refused = refusal(req.getClusterId(), req.getFrom(), req.getTo(), "probe");
      if (refused != null) {
        responses.onError(refused.asRuntimeException());
      } else {
        responses.onNext(ProbeResponse.newBuilder().setClusterId(clusterId).setMemberId(selfId).build());
        responses.onCompleted();
      }
    }

    @Override
    public void forward(ForwardRequest req, StreamObserver<ForwardResponse> responses) {
      if (req.getClusterId() != clusterId) {
        // Logged as every other refusal; a forwarded call names no sender.
        responses.onError(refusal(req.getClusterId(), 0, 0, "forwarded call").asRuntimeException());
        return;
      }
      CompletableFuture<ForwardResponse> f;
      try {
        f = forwards.handle(req);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((v, err) -> {
        if (err != null) {
          LOG.log(System.Logger.Level.WARNING, "cannot serve a forwarded " + req.getCallCase() + ": " + err, err);
          responses.onError(Status.UNAVAILABLE.withDescription("forwarded call failed").asRuntimeException());
        } else {
          responses.onNext(v);
          responses.onCompleted();
        }
      });
    }

    @Override
    public void members(io.kvorum.proto.raftpb.MembersRequest req,
        StreamObserver<io.kvorum.proto.raftpb.MembersResponse> responses) {
      io.kvorum.proto.raftpb.MembersResponse r;
      try {
        r = forwards.members();
      } catch (RuntimeException e) {
        responses.onError(Status.UNAVAILABLE.withDescription("no cluster information here").asRuntimeException());
        return;
      }
      responses.onNext(r);
      responses.onCompleted();
    }

    @Override
    public StreamObserver<io.kvorum.proto.raftpb.SnapshotChunk> snapshot(
        StreamObserver<io.kvorum.proto.raftpb.SnapshotAck> responses) {
      return new InboundSnapshot(selfId, clusterId, snapshots, inbound, responses);
    }
  }
}
