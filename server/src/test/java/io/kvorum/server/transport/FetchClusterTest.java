package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A joining member asks its peers for the cluster until one lists it: a peer that has not applied
 * the member's addition yet is asked again (on the members' clock) instead of being believed.
 */
class FetchClusterTest {
  @TempDir Path dir;
  private LocalCluster cluster;

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  private List<URI> peerUrls() {
    List<URI> urls = new ArrayList<>();
    for (EtcdServer s : cluster.members().values()) {
      s.membership().get(s.memberId()).peerUrls().forEach(u -> urls.add(URI.create(u)));
    }
    return urls;
  }

  @Test
  void fetchCluster_answersThatDoNotListTheMember_areAskedAgainUntilOneDoes() throws IOException {
    cluster = LocalCluster.start(dir, 2, b -> { });
    cluster.leader(s -> true);
    AtomicInteger answers = new AtomicInteger();
    PeerTransport.RemoteCluster rc = PeerTransport.fetchCluster(peerUrls(), PeerSecurity.plaintext(),
        Duration.ofSeconds(30), cluster.clock(), c -> answers.incrementAndGet() == 3);
    assertThat(answers).hasValue(3);
    assertThat(rc.members()).hasSize(2);
  }

  @Test
  void fetchCluster_noAnswerListsTheMember_givesTheLastAnswerAtTheTimeout() throws IOException {
    cluster = LocalCluster.start(dir, 2, b -> { });
    cluster.leader(s -> true);
    AtomicInteger answers = new AtomicInteger();
    PeerTransport.RemoteCluster rc = PeerTransport.fetchCluster(peerUrls(), PeerSecurity.plaintext(),
        Duration.ofSeconds(1), cluster.clock(), c -> {
          answers.incrementAndGet();
          return false;
        });
    assertThat(answers.get()).isGreaterThanOrEqualTo(2);
    assertThat(rc.members()).hasSize(2);
    assertThat(rc.clusterId()).isEqualTo(cluster.members().values().iterator().next().membership().clusterId());
  }
}
