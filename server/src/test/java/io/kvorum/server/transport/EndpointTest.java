package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EndpointTest {

  @Test
  void parse_httpUrl_hostAndPort() {
    Endpoint e = Endpoint.parse(URI.create("http://10.0.0.1:2380"));
    assertThat(e.isDomainSocket()).isFalse();
    assertThat(e.host()).isEqualTo("10.0.0.1");
    assertThat(e.port()).isEqualTo(2380);
  }

  @Test
  void parse_ipv6Literal_bracketsStripped() {
    Endpoint e = Endpoint.parse(URI.create("http://[::1]:2380"));
    assertThat(e.host()).isEqualTo("::1");
    assertThat(e.port()).isEqualTo(2380);
  }

  @Test
  void parse_unixUrlEtcdStyle_hostIsTheRelativeSocketFile() {
    // etcd's own tests use unix://localhost:<port>: the file "localhost:<port>" in the working directory.
    Endpoint e = Endpoint.parse(URI.create("unix://localhost:12380"));
    assertThat(e.isDomainSocket()).isTrue();
    assertThat(e.socketPath()).isEqualTo(Path.of("localhost:12380"));
  }

  @Test
  void parse_unixUrlAbsolutePath_isThatPath() {
    Endpoint e = Endpoint.parse(URI.create("unix:///var/run/kvorum/peer.sock"));
    assertThat(e.socketPath()).isEqualTo(Path.of("/var/run/kvorum/peer.sock"));
  }

  @Test
  void parse_missingPortOrHostOrPath_rejected() {
    assertThatThrownBy(() -> Endpoint.parse(URI.create("http://127.0.0.1"))).hasMessageContaining("no port");
    assertThatThrownBy(() -> Endpoint.parse(URI.create("http:///x"))).hasMessageContaining("no host");
    assertThatThrownBy(() -> Endpoint.parse(URI.create("unix:opaque"))).hasMessageContaining("names no socket file");
  }
}
