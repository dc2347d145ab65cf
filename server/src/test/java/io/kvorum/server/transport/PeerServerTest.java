package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.ProbeResponse;
import io.kvorum.proto.raftpb.RaftPeerGrpc;
import io.kvorum.raft.Message;
import java.net.URI;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The receiving side on its own, driven by a raft stream and a gRPC client on its one port. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerServerTest {
  private static final long SELF = 2;
  private final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
  private PeerServer server;
  private ManagedChannel channel;
  private final StreamDialer dialer = new StreamDialer("test-raft-stream", PeerSecurity.plaintext());
  /** Released whenever a stream under test reports a change. */
  private final java.util.concurrent.Semaphore changes = new java.util.concurrent.Semaphore(0);

  @BeforeEach
  void start() throws Exception {
    server = PeerServer.start(List.of(URI.create("http://127.0.0.1:0")), SELF, TestMember.CLUSTER, received::add,
        PeerSecurity.plaintext(), TransportSettings.defaults());
    URI url = server.urls().get(0);
    assertThat(url.getPort()).isPositive();
    channel = NettyChannelBuilder.forAddress(url.getHost(), url.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    dialer.close();
    server.close();
  }

  /** Opens a raft stream as a member of {@code clusterId} to member {@code to}; waits for the answer. */
  private OutboundRaftStream open(long clusterId, long to) throws InterruptedException {
    return open(clusterId, to, TransportSettings.defaults());
  }

  private OutboundRaftStream open(long clusterId, long to, TransportSettings settings) throws InterruptedException {
    ProbeRequest hello = ProbeRequest.newBuilder().setClusterId(clusterId).setFrom(1).setTo(to).build();
    OutboundRaftStream s = OutboundRaftStream.open(dialer, Endpoint.parse(server.urls().get(0)), hello,
        settings, changes::release);
    while (!s.isReady() && s.broken() == null) {
      assertThat(changes.tryAcquire(20, TimeUnit.SECONDS)).as("the server answered").isTrue();
    }
    return s;
  }

  /** Sends {@code batches} on an accepted stream and waits until the server ends it; its status. */
  private Status rejected(MessageBatch... batches) throws InterruptedException {
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF);
    assertThat(s.broken()).isNull();
    for (MessageBatch b : batches) {
      s.send(b);
    }
    while (s.broken() == null) {
      assertThat(changes.tryAcquire(20, TimeUnit.SECONDS)).as("the server ended the stream").isTrue();
    }
    return s.broken();
  }

  private static MessageBatch batch(long clusterId, Message... messages) {
    MessageBatch.Builder b = MessageBatch.newBuilder().setClusterId(clusterId).setFrom(1);
    for (Message m : messages) {
      b.addMessages(MessageCodec.encode(m));
    }
    return b.build();
  }

  @Test
  void stream_sameCluster_delivers() throws Exception {
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF);
    assertThat(s.broken()).isNull();
    s.send(batch(TestMember.CLUSTER, TestMessages.full(1, SELF, 1), TestMessages.full(1, SELF, 2)));
    s.send(batch(TestMember.CLUSTER, TestMessages.full(1, SELF, 3)));
    assertThat(received.poll(20, TimeUnit.SECONDS)).usingRecursiveComparison().isEqualTo(TestMessages.full(1, SELF, 1));
    assertThat(received.poll(20, TimeUnit.SECONDS)).usingRecursiveComparison().isEqualTo(TestMessages.full(1, SELF, 2));
    assertThat(received.poll(20, TimeUnit.SECONDS)).usingRecursiveComparison().isEqualTo(TestMessages.full(1, SELF, 3));
    s.finish();
  }

  @Test
  void stream_openedForAnotherClusterOrMember_refused() throws Exception {
    Status other = open(0xbad, SELF).broken();
    assertThat(other.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(other.getDescription()).isEqualTo("cluster ID mismatch");
    Status wrongMember = open(TestMember.CLUSTER, 5).broken();
    assertThat(wrongMember.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(wrongMember.getDescription()).isEqualTo("to field mismatch");
  }

  @Test
  void stream_fromRemovedMember_refused() throws Exception {
    server.refuseRemoved(id -> id == 1);
    Status s = open(TestMember.CLUSTER, SELF).broken();
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo(PeerServer.REMOVED_MEMBER);
  }

  @Test
  void stream_batchOfAnotherCluster_rejectedAndNothingDelivered() throws Exception {
    Status s = rejected(batch(0xbad, TestMessages.heartbeat(1, SELF, 1)));
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo("cluster ID mismatch");
    assertThat(received).isEmpty();
  }

  @Test
  void stream_messageForAnotherMember_rejectsTheWholeBatch() throws Exception {
    Status s = rejected(batch(TestMember.CLUSTER, TestMessages.heartbeat(1, SELF, 1),
        TestMessages.heartbeat(1, 3, 2)));
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo("to field mismatch");
    assertThat(received).isEmpty();
  }

  @Test
  void stream_localMessageKind_rejected() throws Exception {
    MessageBatch b = MessageBatch.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(1)
        .addMessages(io.kvorum.proto.raftpb.Message.newBuilder()
            .setType(io.kvorum.proto.raftpb.MessageType.MSG_HUP).setTo(SELF)).build();
    Status s = rejected(b);
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(received).isEmpty();
  }

  @Test
  void stream_batchOverMessageLimit_rejected() throws Exception {
    Message big = TestMessages.heartbeat(1, SELF, 1).toBuilder()
        .context(new byte[TransportSettings.MESSAGE_BYTES_MAX + 1]).build();
    Status s = rejected(batch(TestMember.CLUSTER, big));
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(received).isEmpty();
  }

  @Test
  void stream_entryOfEtcdMaxRequestSize_accepted() throws Exception {
    // etcd's --max-request-bytes default is 1.5 MiB; its raft entry is a little larger.
    Message app = io.kvorum.raft.Message.builder(io.kvorum.raft.MessageType.APP).from(1).to(SELF)
        .entries(List.of(io.kvorum.raft.Entry.normal(1, 1, new byte[3 * 1024 * 1024 / 2 + 4096]))).build();
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF);
    s.send(batch(TestMember.CLUSTER, app));
    assertThat(received.poll(20, TimeUnit.SECONDS).entries().get(0).data()).hasSize(3 * 1024 * 1024 / 2 + 4096);
    assertThat(s.broken()).isNull();
  }

  @Test
  void stream_bigAndSmallBatches_deliveredInOrder() throws Exception {
    // A frame larger than the socket takes at once (8 MiB, over the kernel's largest loopback
    // buffers) finishes on the event loop; the small frames written after it must queue behind it
    // there, not overtake it on the direct path.
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF);
    byte[] big = new byte[8 * 1024 * 1024];
    int n = 48;
    for (int i = 1; i <= n; i++) {
      var b = Message.builder(io.kvorum.raft.MessageType.APP).from(1).to(SELF).index(i);
      if (i % 6 == 0) {
        b.entries(List.of(io.kvorum.raft.Entry.normal(1, i, big)));
      }
      s.send(batch(TestMember.CLUSTER, b.build()));
    }
    for (int i = 1; i <= n; i++) {
      Message m = received.poll(20, TimeUnit.SECONDS);
      assertThat(m).as("message %d", i).isNotNull();
      assertThat(m.index()).isEqualTo(i);
      assertThat(m.entries()).hasSize(i % 6 == 0 ? 1 : 0);
    }
    assertThat(s.broken()).isNull();
  }

  @Test
  void stream_quietButAlive_staysOpen() throws Exception {
    TransportSettings quick = TransportSettings.defaults()
        .withKeepAlive(java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(100));
    server.close();
    server = PeerServer.start(List.of(URI.create("http://127.0.0.1:0")), SELF, TestMember.CLUSTER, received::add,
        PeerSecurity.plaintext(), quick);
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF, quick);
    // Ten times the silence a stream tolerates, with nothing sent: the peer's keep-alives hold it.
    changes.tryAcquire(1500, TimeUnit.MILLISECONDS);
    assertThat(s.broken()).isNull();
    s.send(batch(TestMember.CLUSTER, TestMessages.heartbeat(1, SELF, 1)));
    assertThat(received.poll(20, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void stream_peerFallsSilent_broken() throws Exception {
    TransportSettings quick = TransportSettings.defaults()
        .withKeepAlive(java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(100));
    // A peer that accepts the stream, then neither answers nor closes (a host gone without a reset).
    try (java.net.ServerSocket mute = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread peer = new Thread(() -> {
        try (java.net.Socket c = mute.accept()) {
          java.io.DataInputStream in = new java.io.DataInputStream(c.getInputStream());
          in.readFully(new byte[RaftStreams.MAGIC.length]);
          in.readFully(new byte[in.readInt()]);
          c.getOutputStream().write(new byte[4]); // an empty status: accepted
          in.readAllBytes();
        } catch (java.io.IOException e) {
          // the stream gave up: done
        }
      });
      peer.start();
      ProbeRequest hello = ProbeRequest.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(1).setTo(SELF).build();
      OutboundRaftStream s = OutboundRaftStream.open(dialer,
          Endpoint.parse(URI.create("http://127.0.0.1:" + mute.getLocalPort())), hello, quick, changes::release);
      while (s.broken() == null) {
        assertThat(changes.tryAcquire(20, TimeUnit.SECONDS)).as("the stream ended").isTrue();
      }
      assertThat(s.broken().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(s.broken().getDescription()).isEqualTo("no word from the peer in 150 ms");
      peer.join(20_000);
    }
  }

  @Test
  void stream_outlivesGrpcHandshakeDeadline() throws Exception {
    server.close();
    server = PeerServer.start(List.of(URI.create("http://127.0.0.1:0")), SELF, TestMember.CLUSTER, received::add,
        PeerSecurity.plaintext(), TransportSettings.defaults().withHandshakeTimeout(java.time.Duration.ofMillis(200)));
    OutboundRaftStream s = open(TestMember.CLUSTER, SELF);
    assertThat(s.broken()).isNull();
    // A connection that never speaks is cut at gRPC's handshake deadline; the stream, older, is not.
    URI url = server.urls().get(0);
    try (java.net.Socket silent = new java.net.Socket(url.getHost(), url.getPort())) {
      silent.setSoTimeout(20_000);
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
    }
    s.send(batch(TestMember.CLUSTER, TestMessages.heartbeat(1, SELF, 1)));
    assertThat(received.poll(20, TimeUnit.SECONDS)).isNotNull();
    assertThat(s.broken()).isNull();
  }

  @Test
  void garbageOnThePort_closedWithoutHarm() throws Exception {
    URI url = server.urls().get(0);
    try (java.net.Socket sock = new java.net.Socket(url.getHost(), url.getPort())) {
      sock.getOutputStream().write(RaftStreams.MAGIC);
      sock.getOutputStream().write(new byte[] {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      sock.setSoTimeout(20_000);
      // A malformed opening frame is answered with a status, then the connection is closed.
      byte[] all = sock.getInputStream().readAllBytes();
      assertThat(all.length).isGreaterThan(4);
    }
    // The port still serves both protocols.
    assertThat(open(TestMember.CLUSTER, SELF).broken()).isNull();
    probe_sameClusterAndMember_answersIds();
  }

  @Test
  void probe_sameClusterAndMember_answersIds() {
    ProbeResponse r = RaftPeerGrpc.newBlockingStub(channel)
        .probe(ProbeRequest.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(1).setTo(SELF).build());
    assertThat(r.getClusterId()).isEqualTo(TestMember.CLUSTER);
    assertThat(r.getMemberId()).isEqualTo(SELF);
  }

  @Test
  void probe_wrongClusterOrMember_failedPrecondition() {
    assertThatThrownBy(() -> RaftPeerGrpc.newBlockingStub(channel)
        .probe(ProbeRequest.newBuilder().setClusterId(7).setFrom(1).setTo(SELF).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).isEqualTo("cluster ID mismatch");
        });
    assertThatThrownBy(() -> RaftPeerGrpc.newBlockingStub(channel)
        .probe(ProbeRequest.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(1).setTo(5).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getDescription()).isEqualTo("to field mismatch"));
  }

  @Test
  void forward_fromAnotherCluster_refusedAndLogged() {
    try (io.kvorum.server.testing.LogCapture logs = io.kvorum.server.testing.LogCapture.of(PeerServer.class)) {
      assertThatThrownBy(() -> RaftPeerGrpc.newBlockingStub(channel)
          .forward(io.kvorum.proto.raftpb.ForwardRequest.newBuilder().setClusterId(7).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).isEqualTo("cluster ID mismatch");
          });
      assertThat(logs.await("rejected forwarded call", "of cluster 7 ")).contains("cluster ID mismatch");
    }
  }

  @Test
  void start_unusableUrl_rejected() {
    assertThatThrownBy(() -> PeerServer.start(List.of(URI.create("https://127.0.0.1:0")), SELF, 1, m -> { },
        PeerSecurity.plaintext(), TransportSettings.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs peer TLS");
    assertThatThrownBy(() -> PeerServer.start(List.of(URI.create("ftp://127.0.0.1:0")), SELF, 1, m -> { },
        PeerSecurity.plaintext(), TransportSettings.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scheme");
  }
}
