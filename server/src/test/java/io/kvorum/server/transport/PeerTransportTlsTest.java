package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.Message;
import io.kvorum.server.config.TlsConfig;
import io.kvorum.server.tls.Fixtures;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The peer transport over TLS between members on loopback, as etcd's peer TLS flags set it up. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerTransportTlsTest {
  private static final long AWAIT_SECONDS = 20;
  private static final URI ANY_PORT = URI.create("https://127.0.0.1:0");
  /** The loggers whose lines etcd's e2e suite waits for. */
  private static final List<String> LOGGERS = List.of(PeerSender.class.getName(), "io.kvorum.server.tls.CertificateCheck",
      "io.kvorum.server.tls.TlsFailures");

  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final BlockingQueue<String> logLines = new LinkedBlockingQueue<>();
  private final Handler capture = new Handler() {
    private final SimpleFormatter f = new SimpleFormatter();

    @Override
    public void publish(LogRecord r) {
      logLines.add(r.getLoggerName() + ": " + f.formatMessage(r));
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void captureLogs() {
    for (String name : LOGGERS) {
      Logger.getLogger(name).addHandler(capture);
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    for (String name : LOGGERS) {
      Logger.getLogger(name).removeHandler(capture);
    }
  }

  /** One member's transport, serving on an ephemeral https port. */
  private final class Member {
    final long id;
    final PeerTransport transport;
    final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
    final URI url;

    Member(long id, TlsConfig tls) throws IOException {
      this.id = id;
      PeerSecurity security = PeerSecurity.forMember(tls, List.of(), dir.resolve("m" + id), List.of(ANY_PORT));
      this.transport = new PeerTransport(id, TestMember.CLUSTER, received::add, peer -> { }, (peer, failed) -> { },
          security, TestMember.FAST);
      toClose.add(transport);
      this.url = transport.listen(List.of(ANY_PORT)).urls().get(0);
    }

    void connect(Member peer) {
      transport.addPeer(peer.id, List.of(peer.url));
    }

    Message take() throws InterruptedException {
      Message m = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(m).as("a message reached member %d within %d s", id, AWAIT_SECONDS).isNotNull();
      return m;
    }
  }

  private static TlsConfig autoTls() {
    return new TlsConfig(null, null, null, false, true, null, null, null);
  }

  private static TlsConfig certs(String cert, String key, String allowedCn) {
    return new TlsConfig(Fixtures.path(cert), Fixtures.path(key), Fixtures.path("ca.crt"), true, false, null,
        allowedCn, null);
  }

  /** Waits (bounded) for a log line containing {@code text}; returns it. */
  private String awaitLogLine(String text) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_SECONDS);
    List<String> seen = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      String line = logLines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        break;
      }
      if (line.contains(text)) {
        return line;
      }
      seen.add(line);
    }
    throw new AssertionError("no log line containing \"" + text + "\" within " + AWAIT_SECONDS + " s; saw " + seen);
  }

  @Test
  void send_peerAutoTlsBothWays_everyMessageArrives() throws Exception {
    Member a = new Member(1, autoTls());
    Member b = new Member(2, autoTls());
    a.connect(b);
    b.connect(a);
    assertThat(a.url.getScheme()).isEqualTo("https");

    for (int i = 0; i < 20; i++) {
      a.transport.send(List.of(TestMessages.full(1, 2, i)));
      b.transport.send(List.of(TestMessages.full(2, 1, i)));
    }
    for (int i = 0; i < 20; i++) {
      assertThat(b.take()).usingRecursiveComparison().isEqualTo(TestMessages.full(1, 2, i));
      assertThat(a.take()).usingRecursiveComparison().isEqualTo(TestMessages.full(2, 1, i));
    }
    assertThat(dir.resolve("m1/fixtures/peer/cert.pem")).exists();
  }

  @Test
  void send_fixtureCertsWithAllowedCn_acceptsTheAllowedNameOnly() throws Exception {
    Member a = new Member(1, certs("server.crt", "server.key.insecure", "example.com"));
    Member good = new Member(2, certs("server.crt", "server.key.insecure", "example.com"));
    Member foreign = new Member(3, certs("server2.crt", "server2.key.insecure", "example2.com"));
    good.connect(a);
    foreign.connect(a);

    foreign.transport.send(List.of(TestMessages.heartbeat(3, 1, 7)));
    good.transport.send(List.of(TestMessages.heartbeat(2, 1, 8)));

    assertThat(a.take().from()).isEqualTo(2);
    awaitLogLine("client certificate authentication failed");
    String refused = awaitLogLine("remote error: tls: bad certificate");
    assertThat(refused).contains("peer 1");
    assertThat(a.received).isEmpty();
  }

  @Test
  void send_urlHostNotInTheServersCertificate_dialerRefusesIt() throws Exception {
    Member a = new Member(1, certs("server-ip.crt", "server-ip.key.insecure", null));
    Member byName = new Member(2, certs("server.crt", "server.key.insecure", null));
    Member byIp = new Member(3, certs("server.crt", "server.key.insecure", null));
    // a's certificate names 127.0.0.1 only; "localhost" reaches the same socket but is not its name.
    byName.transport.addPeer(a.id, List.of(URI.create("https://localhost:" + a.url.getPort())));
    byIp.connect(a);
    byName.transport.send(List.of(TestMessages.heartbeat(2, 1, 1)));
    byIp.transport.send(List.of(TestMessages.heartbeat(3, 1, 2)));

    assertThat(a.take().from()).isEqualTo(3);
    assertThat(awaitLogLine("server certificate refused")).contains("localhost");
    assertThat(a.received).isEmpty();
  }

  @Test
  void send_dialerWithUntrustedCertificate_refused() throws Exception {
    Member a = new Member(1, certs("server.crt", "server.key.insecure", null));
    Member auto = new Member(2, new TlsConfig(null, null, null, false, true, null, null, null));
    Member plain = new Member(3, certs("server.crt", "server.key.insecure", null));
    // An auto-TLS member dials without verifying; its self-signed certificate is what a is asked to trust.
    auto.connect(a);
    plain.connect(a);
    auto.transport.send(List.of(TestMessages.heartbeat(2, 1, 1)));
    plain.transport.send(List.of(TestMessages.heartbeat(3, 1, 2)));

    assertThat(a.take().from()).isEqualTo(3);
    // It finds no certificate the fixture CA signed to present, so it presents none.
    awaitLogLine("remote error: tls: bad certificate");
    assertThat(a.received).isEmpty();
  }
}
