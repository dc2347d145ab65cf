package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.Message;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A member's transport with everything it receives and reports recorded in queues. */
final class TestMember implements AutoCloseable {
  static final long CLUSTER = 0x1c2c3c4c5c6c7c8cL;
  /** Short backoffs so reconnection tests finish quickly; everything else as in production. */
  static final TransportSettings FAST = TransportSettings.defaults()
      .withBackoff(Duration.ofMillis(10), Duration.ofMillis(50));
  static final long AWAIT_SECONDS = 20;

  final long id;
  final PeerTransport transport;
  final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
  final BlockingQueue<Long> unreachable = new LinkedBlockingQueue<>();
  final BlockingQueue<String> snapshotReports = new LinkedBlockingQueue<>();
  PeerServer server;

  TestMember(long id, long clusterId, TransportSettings settings) {
    this.id = id;
    this.transport = new PeerTransport(id, clusterId, received::add, unreachable::add,
        (peer, failed) -> snapshotReports.add(Long.toHexString(peer) + (failed ? " failed" : " finished")),
        PeerSecurity.plaintext(), settings);
  }

  /** A member serving on an ephemeral loopback port. */
  static TestMember listening(long id) throws IOException {
    return listening(id, CLUSTER, FAST);
  }

  static TestMember listening(long id, long clusterId, TransportSettings settings) throws IOException {
    TestMember m = new TestMember(id, clusterId, settings);
    m.listen(URI.create("http://127.0.0.1:0"));
    return m;
  }

  void listen(URI url) throws IOException {
    server = transport.listen(List.of(url));
  }

  URI url() {
    return server.urls().get(0);
  }

  void connect(TestMember peer) {
    transport.addPeer(peer.id, List.of(peer.url()));
  }

  Message take() throws InterruptedException {
    Message m = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(m).as("a message reached member %d within %d s", id, AWAIT_SECONDS).isNotNull();
    return m;
  }

  long takeUnreachable() throws InterruptedException {
    Long peer = unreachable.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(peer).as("member %d reported a peer unreachable within %d s", id, AWAIT_SECONDS).isNotNull();
    return peer;
  }

  String takeSnapshotReport() throws InterruptedException {
    String r = snapshotReports.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(r).as("member %d reported a snapshot within %d s", id, AWAIT_SECONDS).isNotNull();
    return r;
  }

  @Override
  public void close() {
    transport.close();
  }
}
