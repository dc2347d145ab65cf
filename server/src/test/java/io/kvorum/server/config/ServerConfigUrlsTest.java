package io.kvorum.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The URL checks of etcd's flag parsing and {@code embed.Config.Validate}, with etcd's messages. */
class ServerConfigUrlsTest {
  private static ServerConfig.Builder builder() {
    return ServerConfig.builder();
  }

  @Test
  void build_listenUrlNamingAHost_failsAsEtcdBindsOnlyIps() {
    ServerConfig.Builder b = builder();
    b.listenClientUrls = List.of(URI.create("http://example.com:2379"));
    assertThatThrownBy(b::build).isInstanceOf(ConfigException.class)
        .hasMessage("expected IP in URL for binding (http://example.com:2379)");
  }

  @Test
  void build_listenUrlsOfIpsLocalhostAndUnix_areAccepted() {
    ServerConfig.Builder b = builder();
    b.listenClientUrls = List.of(URI.create("http://0.0.0.0:0"), URI.create("http://[::1]:2379"),
        URI.create("https://localhost:2379"), URI.create("unix://etcd.unix:1"));
    assertThat(b.build().listenClientUrls).hasSize(4);
  }

  @Test
  void build_urlWithoutPort_failsWithEtcdsMessage() {
    ServerConfig.Builder b = builder();
    b.advertiseClientUrls = List.of(URI.create("http://127.0.0.1"));
    assertThatThrownBy(b::build).hasMessage("URL address does not have the form \"host:port\": http://127.0.0.1");
  }

  @Test
  void build_advertisedUrlWithoutHost_failsWithEtcdsMessage() {
    ServerConfig.Builder b = builder();
    b.initialAdvertisePeerUrls = List.of(URI.create("http://:2380"));
    b.initialCluster = "default=http://:2380";
    assertThatThrownBy(b::build).hasMessage("--initial-advertise-peer-urls \"http://:2380\" must be \"host:port\" "
        + "(unexpected empty host (http://:2380))");
  }
}
