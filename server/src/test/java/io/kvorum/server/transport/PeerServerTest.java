package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.ProbeResponse;
import io.kvorum.proto.raftpb.RaftPeerGrpc;
import io.kvorum.proto.raftpb.StreamAck;
import io.kvorum.raft.Message;
import java.net.URI;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The receiving side on its own, driven by a raw gRPC client. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerServerTest {
  private static final long SELF = 2;
  private final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
  private PeerServer server;
  private ManagedChannel channel;

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
    server.close();
  }

  /** Sends {@code batches} on one stream, then half-closes; completes with the ack or the error status. */
  private CompletableFuture<StreamAck> stream(MessageBatch... batches) {
    CompletableFuture<StreamAck> done = new CompletableFuture<>();
    StreamObserver<MessageBatch> requests = RaftPeerGrpc.newStub(channel).stream(new StreamObserver<>() {
      @Override
      public void onNext(StreamAck ack) {
        done.complete(ack);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    for (MessageBatch b : batches) {
      requests.onNext(b);
    }
    requests.onCompleted();
    return done;
  }

  private static MessageBatch batch(long clusterId, Message... messages) {
    MessageBatch.Builder b = MessageBatch.newBuilder().setClusterId(clusterId).setFrom(1);
    for (Message m : messages) {
      b.addMessages(MessageCodec.encode(m));
    }
    return b.build();
  }

  private static Status statusOf(CompletableFuture<?> f) {
    try {
      f.get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the stream was not rejected");
  }

  @Test
  void stream_sameCluster_deliversAndAcks() throws Exception {
    StreamAck ack = stream(batch(TestMember.CLUSTER, TestMessages.full(1, SELF, 1), TestMessages.full(1, SELF, 2)),
        batch(TestMember.CLUSTER, TestMessages.full(1, SELF, 3))).get(20, TimeUnit.SECONDS);
    assertThat(ack.getMessages()).isEqualTo(3);
    assertThat(received).hasSize(3);
    assertThat(received.take()).usingRecursiveComparison().isEqualTo(TestMessages.full(1, SELF, 1));
  }

  @Test
  void stream_wrongClusterId_rejectedAndNothingDelivered() {
    Status s = statusOf(stream(batch(0xbad, TestMessages.heartbeat(1, SELF, 1))));
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo("cluster ID mismatch");
    assertThat(received).isEmpty();
  }

  @Test
  void stream_messageForAnotherMember_rejectsTheWholeBatch() {
    Status s = statusOf(stream(batch(TestMember.CLUSTER, TestMessages.heartbeat(1, SELF, 1),
        TestMessages.heartbeat(1, 3, 2))));
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo("to field mismatch");
    assertThat(received).isEmpty();
  }

  @Test
  void stream_localMessageKind_rejected() {
    MessageBatch b = MessageBatch.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(1)
        .addMessages(io.kvorum.proto.raftpb.Message.newBuilder()
            .setType(io.kvorum.proto.raftpb.MessageType.MSG_HUP).setTo(SELF)).build();
    Status s = statusOf(stream(b));
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(received).isEmpty();
  }

  @Test
  void stream_batchOverMessageLimit_rejectedByGrpc() {
    Message big = TestMessages.heartbeat(1, SELF, 1).toBuilder()
        .context(new byte[TransportSettings.MESSAGE_BYTES_MAX + 1]).build();
    Status s = statusOf(stream(batch(TestMember.CLUSTER, big)));
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(received).isEmpty();
  }

  @Test
  void stream_entryOfEtcdMaxRequestSize_accepted() throws Exception {
    // etcd's --max-request-bytes default is 1.5 MiB; its raft entry is a little larger.
    Message app = io.kvorum.raft.Message.builder(io.kvorum.raft.MessageType.APP).from(1).to(SELF)
        .entries(List.of(io.kvorum.raft.Entry.normal(1, 1, new byte[3 * 1024 * 1024 / 2 + 4096]))).build();
    assertThat(stream(batch(TestMember.CLUSTER, app)).get(20, TimeUnit.SECONDS).getMessages()).isEqualTo(1);
    assertThat(received.take().entries().get(0).data()).hasSize(3 * 1024 * 1024 / 2 + 4096);
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
  void start_unusableUrl_rejected() {
    assertThatThrownBy(() -> PeerServer.start(List.of(URI.create("https://127.0.0.1:0")), SELF, 1, m -> { },
        PeerSecurity.plaintext(), TransportSettings.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs peer TLS");
    assertThatThrownBy(() -> PeerServer.start(List.of(URI.create("ftp://127.0.0.1:0")), SELF, 1, m -> { },
        PeerSecurity.plaintext(), TransportSettings.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scheme");
  }
}
