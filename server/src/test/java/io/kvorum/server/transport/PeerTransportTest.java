package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvorum.raft.Entry;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerTransportTest {
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  private TestMember member(long id) throws IOException {
    return closing(TestMember.listening(id));
  }

  /** A loopback URL where nothing listens (a port that was just bound and released). */
  private static URI deadUrl() throws IOException {
    TestMember tmp = TestMember.listening(99);
    URI url = tmp.url();
    tmp.close();
    return url;
  }

  @Test
  void send_twoMembers_everyFieldArrivesInOrder() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.connect(b);
    b.connect(a);
    List<Message> sentAb = new ArrayList<>();
    List<Message> sentBa = new ArrayList<>();
    for (int round = 0; round < 50; round++) {
      List<Message> ab = new ArrayList<>();
      List<Message> ba = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ab.add(TestMessages.full(1, 2, sentAb.size() + ab.size()));
        ba.add(TestMessages.full(2, 1, sentBa.size() + ba.size()));
      }
      a.transport.send(ab);
      b.transport.send(ba);
      sentAb.addAll(ab);
      sentBa.addAll(ba);
    }
    for (Message expected : sentAb) {
      assertThat(b.take()).usingRecursiveComparison().isEqualTo(expected);
    }
    for (Message expected : sentBa) {
      assertThat(a.take()).usingRecursiveComparison().isEqualTo(expected);
    }
    assertThat(a.transport.droppedMessages(2)).isZero();
    assertThat(a.unreachable).isEmpty();
  }

  @Test
  void send_threeMembersInterleaved_orderPreservedPerPeer() throws Exception {
    List<TestMember> ms = List.of(member(1), member(2), member(3));
    for (TestMember x : ms) {
      for (TestMember y : ms) {
        if (x != y) {
          x.connect(y);
        }
      }
    }
    int perPair = 2_000;
    for (int seq = 0; seq < perPair; seq += 100) {
      for (TestMember x : ms) {
        // One send() holding messages for both other members, interleaved.
        List<Message> batch = new ArrayList<>();
        for (int i = seq; i < seq + 100; i++) {
          for (TestMember y : ms) {
            if (x != y) {
              batch.add(TestMessages.heartbeat(x.id, y.id, i));
            }
          }
        }
        x.transport.send(batch);
      }
    }
    for (TestMember y : ms) {
      Map<Long, Long> next = new HashMap<>();
      for (int n = 0; n < 2 * perPair; n++) {
        Message m = y.take();
        assertThat(m.to()).isEqualTo(y.id);
        long expected = next.getOrDefault(m.from(), 0L);
        assertThat(m.index()).as("message from %d to %d", m.from(), y.id).isEqualTo(expected);
        next.put(m.from(), expected + 1);
      }
      assertThat(next.values()).containsOnly((long) perPair);
    }
  }

  @Test
  void send_peerDown_reportsUnreachableAndQueueStaysBounded() throws Exception {
    int queueMax = 64;
    TestMember a = closing(TestMember.listening(1, TestMember.CLUSTER, TestMember.FAST.withPeerQueueMessagesMax(queueMax)));
    a.transport.addPeer(2, List.of(deadUrl()));
    // The connection attempts fail on their own, with nothing sent.
    assertThat(a.takeUnreachable()).isEqualTo(2);
    List<Message> flood = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      flood.add(TestMessages.heartbeat(1, 2, i));
    }
    a.unreachable.clear();
    a.transport.send(flood);
    assertThat(a.transport.queuedMessages(2)).isLessThanOrEqualTo(queueMax);
    assertThat(a.transport.droppedMessages(2)).isGreaterThanOrEqualTo(10_000 - queueMax);
    assertThat(a.takeUnreachable()).isEqualTo(2);
    assertThat(a.transport.isActive(2)).isFalse();
  }

  @Test
  void send_peerRestarts_reconnectsAndDelivers() throws Exception {
    TestMember a = member(1);
    TestMember b = new TestMember(2, TestMember.CLUSTER, TestMember.FAST);
    b.listen(URI.create("http://127.0.0.1:0"));
    URI bUrl = b.url();
    a.connect(b);
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0)));
    assertThat(b.take().index()).isZero();

    b.close();
    assertThat(a.takeUnreachable()).isEqualTo(2);

    TestMember b2 = closing(new TestMember(2, TestMember.CLUSTER, TestMember.FAST));
    b2.listen(bUrl);
    // Messages sent while the sender still backs off are dropped; keep sending until one arrives.
    long after = sendUntilReceived(a, b2, 1).index();
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 100_000)));
    // Order holds across the reconnection: nothing older than what already arrived.
    Message m;
    do {
      m = b2.take();
      assertThat(m.index()).isGreaterThan(after);
      after = m.index();
    } while (m.index() != 100_000);
  }

  @Test
  void updatePeer_newPort_keepsDelivering() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.connect(b);
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0)));
    assertThat(b.take().index()).isZero();

    // Member 2 moves (etcd's member update): a new listener, the old one gone.
    PeerServer old = b.server;
    b.listen(URI.create("http://127.0.0.1:0"));
    old.close();
    a.transport.updatePeer(2, List.of(b.url()));
    // Messages sent while the stream moves may be lost; once one arrives, all do, in order.
    long last = sendUntilReceived(a, b, 1).index();
    for (long i = 10_000; i < 10_100; i++) {
      a.transport.send(List.of(TestMessages.heartbeat(1, 2, i)));
    }
    // Stragglers of the loop above may come first; then all 100, none lost, in order.
    Message m = b.take();
    while (m.index() < 10_000) {
      assertThat(m.index()).isGreaterThan(last);
      last = m.index();
      m = b.take();
    }
    for (long i = 10_000; i < 10_100; i++) {
      assertThat(m.index()).isEqualTo(i);
      m = i < 10_099 ? b.take() : null;
    }
    assertThat(a.transport.isActive(2)).isTrue();
  }

  /**
   * Sends heartbeats from {@code from} to {@code to}, numbered from {@code seq}, until one arrives
   * (those sent while the sender is not connected are dropped); bounded to about 20 s.
   */
  private static Message sendUntilReceived(TestMember from, TestMember to, long seq) throws InterruptedException {
    for (long i = seq; i < seq + 2_000; i++) {
      from.transport.send(List.of(TestMessages.heartbeat(from.id, to.id, i)));
      Message got = to.received.poll(10, TimeUnit.MILLISECONDS);
      if (got != null) {
        return got;
      }
    }
    throw new AssertionError("no message from " + from.id + " reached " + to.id);
  }

  @Test
  void updatePeer_fromDeadAddress_connects() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.transport.addPeer(2, List.of(deadUrl()));
    assertThat(a.takeUnreachable()).isEqualTo(2);
    a.transport.updatePeer(2, List.of(b.url()));
    assertThat(sendUntilReceived(a, b, 0).to()).isEqualTo(2);
  }

  @Test
  void addPeer_severalUrlsFirstDead_usesTheLiveOne() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.transport.addPeer(2, List.of(deadUrl(), b.url()));
    assertThat(sendUntilReceived(a, b, 0).to()).isEqualTo(2);
  }

  @Test
  void send_wrongClusterId_rejectedAndReportedUnreachable() throws Exception {
    TestMember a = closing(TestMember.listening(1, 0xbad, TestMember.FAST));
    TestMember b = member(2);
    a.connect(b);
    assertThat(a.takeUnreachable()).isEqualTo(2);
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0), TestMessages.heartbeat(1, 2, 1)));
    // Every failed attempt drops the queue, then reports; one of the next few drops these two.
    for (int reports = 0; a.transport.droppedMessages(2) < 2; reports++) {
      assertThat(reports).as("attempts until the queue was dropped").isLessThan(1_000);
      assertThat(a.takeUnreachable()).isEqualTo(2);
    }
    assertThat(b.received).isEmpty();
    assertThat(a.transport.isActive(2)).isFalse();
  }

  @Test
  void addPeer_urlOfAnotherMember_notUsed() throws Exception {
    TestMember a = member(1);
    TestMember c = member(3);
    // Member 3 listens where a believes member 2 is: the probe sees the wrong member.
    a.transport.addPeer(2, List.of(c.url()));
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0)));
    assertThat(a.takeUnreachable()).isEqualTo(2);
    a.unreachable.clear();
    assertThat(a.takeUnreachable()).isEqualTo(2);
    assertThat(c.received).isEmpty();
  }

  @Test
  void send_messageLargerThanPeersAccept_droppedAndStreamSurvives() throws Exception {
    TransportSettings small = TestMember.FAST.withBatchBytesMax(16 * 1024).withMessageBytesMax(64 * 1024);
    TestMember a = closing(TestMember.listening(1, TestMember.CLUSTER, small));
    TestMember b = closing(TestMember.listening(2, TestMember.CLUSTER, small));
    a.connect(b);
    Message big = Message.builder(MessageType.APP).from(1).to(2).index(1)
        .entries(List.of(Entry.normal(1, 1, new byte[100 * 1024]))).build();
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0), big, TestMessages.heartbeat(1, 2, 2)));
    assertThat(b.take().index()).isZero();
    assertThat(b.take().index()).isEqualTo(2);
    assertThat(a.takeUnreachable()).isEqualTo(2);
    assertThat(a.transport.droppedMessages(2)).isEqualTo(1);
    // Many messages of just under the batch limit go in several batches.
    List<Message> many = new ArrayList<>();
    for (int i = 3; i < 50; i++) {
      many.add(Message.builder(MessageType.APP).from(1).to(2).index(i)
          .entries(List.of(Entry.normal(1, i, new byte[10 * 1024]))).build());
    }
    a.transport.send(many);
    for (int i = 3; i < 50; i++) {
      assertThat(b.take().index()).isEqualTo(i);
    }
  }

  @Test
  void send_snapshot_reportsFinishedOrFailed() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.connect(b);
    Message snap = Message.builder(MessageType.SNAP).from(1).to(2).term(3)
        .snapshot(new Snapshot(new SnapshotMetadata(io.kvorum.raft.ConfState.ofVoters(1, 2), 10, 3), new byte[1000]))
        .build();
    a.transport.send(List.of(snap));
    assertThat(b.take()).usingRecursiveComparison().isEqualTo(snap);
    assertThat(a.takeSnapshotReport()).isEqualTo("2 finished");

    a.transport.addPeer(3, List.of(deadUrl()));
    assertThat(a.takeUnreachable()).isEqualTo(3);
    a.transport.send(List.of(snap.toBuilder().to(3).build()));
    assertThat(a.takeSnapshotReport()).isEqualTo("3 failed");
  }

  @Test
  void removePeer_dropsTrafficToIt() throws Exception {
    TestMember a = member(1);
    TestMember b = member(2);
    a.connect(b);
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 0)));
    assertThat(b.take().index()).isZero();
    a.transport.removePeer(2);
    assertThat(a.transport.hasPeer(2)).isFalse();
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 1)));
    assertThat(a.transport.queuedMessages(2)).isZero();
    // Adding it back works.
    a.connect(b);
    a.transport.send(List.of(TestMessages.heartbeat(1, 2, 2)));
    assertThat(b.take().index()).isEqualTo(2);
  }

  @Test
  void addPeer_badArguments_rejected() throws Exception {
    TestMember a = member(1);
    assertThatThrownBy(() -> a.transport.addPeer(1, List.of(URI.create("http://127.0.0.1:1"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("itself");
    assertThatThrownBy(() -> a.transport.addPeer(2, List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no peer URLs");
    assertThatThrownBy(() -> a.transport.addPeer(2, List.of(URI.create("https://127.0.0.1:2380"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs peer TLS");
    assertThatThrownBy(() -> a.transport.addPeer(2, List.of(URI.create("http://127.0.0.1"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no port");
    assertThatThrownBy(() -> a.transport.updatePeer(5, List.of(URI.create("http://127.0.0.1:1"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a peer");
  }

  @Test
  void listen_unixSocket_delivers(@TempDir Path dir) throws Exception {
    assumeTrue(Endpoint.domainSocketsAvailable(), "netty epoll (unix sockets) is not available here");
    TestMember a = member(1);
    TestMember b = closing(new TestMember(2, TestMember.CLUSTER, TestMember.FAST));
    URI url = URI.create("unix://" + dir.resolve("m2.sock"));
    assertThat(url.getRawAuthority()).isNull();
    b.listen(url);
    a.transport.addPeer(2, List.of(url));
    a.transport.send(List.of(TestMessages.full(1, 2, 5), TestMessages.full(1, 2, 6)));
    assertThat(b.take()).usingRecursiveComparison().isEqualTo(TestMessages.full(1, 2, 5));
    assertThat(b.take()).usingRecursiveComparison().isEqualTo(TestMessages.full(1, 2, 6));
  }
}
