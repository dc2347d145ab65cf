package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PeerUrls}: Go's url.Parse, net.SplitHostPort and etcd's NewURLs rules, case by case. */
class PeerUrlsTest {
  @Test
  void check_acceptsWhatEtcdAccepts() {
    for (String ok : List.of("http://127.0.0.1:2380", "https://host:1", "unix://localhost:1", "unixs://a:1",
        "http://:1", "http://a:", "http://[::1]:2380", "  http://a:1  ", "HTTP://a:1", "http://u@a:1",
        "http://a:1?x=y", "http://a:1#f")) {
      assertThat(PeerUrls.check(List.of(ok))).as(ok).isNotNull();
    }
    assertThat(PeerUrls.check(List.of(" HTTP://a:1 "))).containsExactly("http://a:1");
  }

  @Test
  void check_refusesWhatEtcdRefuses() {
    for (String bad : List.of("not a url", "http://127.0.0.1", "ftp://127.0.0.1:1", "http://127.0.0.1:1/path",
        "http://a:1/", "", "127.0.0.1:1", "http://[::1", "http://::1:1", "http://a:x", "http:a:1", "unix:///tmp/s",
        "http://a b:1")) {
      assertThat(PeerUrls.check(List.of(bad))).as(bad).isNull();
    }
    assertThat(PeerUrls.check(List.of())).as("no URL").isNull();
    assertThat(PeerUrls.check(List.of("http://a:1", "bad"))).as("one bad URL").isNull();
  }
}
