package io.kvorum.embedded.example;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.kvorum.embedded.junit.KvorumClusterExtension;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The example of {@code docs/embedded.md}, as it stands there ({@link DocsExampleTest} checks). */
// docs/embedded.md example begins
class OrdersTest {
  @RegisterExtension
  static final KvorumClusterExtension cluster = KvorumClusterExtension.builder().withNodes(3).build();

  @Test
  void put_isReadBackFromEveryMember() throws Exception {
    ByteSequence key = ByteSequence.from("order/1", UTF_8);
    try (Client client = Client.builder().endpoints(cluster.clientEndpoints().toArray(URI[]::new)).build()) {
      client.getKVClient().put(key, ByteSequence.from("paid", UTF_8)).get();
    }
    for (URI member : cluster.clientEndpoints()) {
      try (Client one = Client.builder().endpoints(member).build()) {
        assertThat(one.getKVClient().get(key).get().getKvs()).hasSize(1);
      }
    }
  }

  @Test
  void member_restart_keepsData() throws Exception {
    ByteSequence key = ByteSequence.from("order/2", UTF_8);
    try (Client client = Client.builder().endpoints(cluster.clientEndpoints().toArray(URI[]::new)).build()) {
      client.getKVClient().put(key, ByteSequence.from("shipped", UTF_8)).get();
    }
    cluster.cluster().restart(1);   // stops member 1 cleanly, starts it on the same data and ports
    try (Client one = Client.builder().endpoints(cluster.clientEndpoints().get(1)).build()) {
      assertThat(one.getKVClient().get(key).get().getKvs()).hasSize(1);
    }
  }
}
// docs/embedded.md example ends
