package io.kvorum.embedded;

import static io.kvorum.embedded.JetcdContract.bytes;
import static io.kvorum.embedded.JetcdContract.get;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.kvorum.embedded.junit.KvorumClusterExtension;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The extension's two lifecycles, and its accessors, as a jetcd-test user uses them. */
class KvorumClusterExtensionTest {
  static Client client(KvorumClusterExtension cluster) {
    return Client.builder().endpoints(cluster.clientEndpoints().toArray(URI[]::new)).build();
  }

  /** In a static field: one cluster for every test of the class. */
  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerClass {
    @RegisterExtension
    static final KvorumClusterExtension CLUSTER = KvorumClusterExtension.builder()
        .withClusterName("per-class").withPrefix("pc-").withNodes(1).build();

    @Test
    @Order(1)
    void firstTest_writes() throws Exception {
      assertThat(KvorumClusterExtension.cluster("per-class")).isSameAs(CLUSTER.cluster());
      try (Client c = client(CLUSTER)) {
        get(c.getKVClient().put(bytes("k"), bytes("v")));
        assertThat(get(c.getClusterClient().listMember()).getMembers().get(0).getName()).isEqualTo("pc-kvorum0");
      }
    }

    @Test
    @Order(2)
    void secondTest_seesTheFirstTestsWriteAndARestartKeepsIt() throws Exception {
      var endpoints = CLUSTER.clientEndpoints();
      CLUSTER.restart(0, TimeUnit.SECONDS);
      assertThat(CLUSTER.clientEndpoints()).isEqualTo(endpoints);
      assertThat(CLUSTER.peerEndpoints()).hasSize(1);
      try (Client c = client(CLUSTER)) {
        assertThat(get(c.getKVClient().get(bytes("k"))).getKvs()).hasSize(1);
      }
    }
  }

  /** In an instance field: a new cluster for each test. */
  @Nested
  class PerMethod {
    @RegisterExtension
    final KvorumClusterExtension cluster = KvorumClusterExtension.builder().withClusterName("per-method").build();

    @Test
    void oneTest_startsEmpty() throws Exception {
      writeOnEmptyCluster();
    }

    @Test
    void anotherTest_startsEmptyToo() throws Exception {
      writeOnEmptyCluster();
    }

    private void writeOnEmptyCluster() throws Exception {
      assertThat(KvorumClusterExtension.cluster("per-method")).isSameAs(cluster.cluster());
      try (Client c = client(cluster)) {
        assertThat(get(c.getKVClient().get(bytes("k"))).getKvs()).isEmpty();
        get(c.getKVClient().put(bytes("k"), bytes("v")));
      }
    }

    @AfterAll
    static void everyClusterIsClosed() {
      assertThat(KvorumClusterExtension.cluster("per-method")).isNull();
    }
  }

  @Nested
  class Ssl {
    @RegisterExtension
    final KvorumClusterExtension cluster = KvorumClusterExtension.builder().withSsl(true)
        .withAdditionalArgs("--max-txn-ops", "1024").build();

    @Test
    void withSsl_servesHttpsWithCertificatesToTrust() throws Exception {
      assertThat(cluster.clientEndpoints().get(0).getScheme()).isEqualTo("https");
      try (Client c = Client.builder().endpoints(cluster.clientEndpoints().toArray(URI[]::new))
          .sslContext(b -> b.trustManager(cluster.clientCertificates().toFile())).build()) {
        get(c.getKVClient().put(bytes("k"), bytes("v")));
      }
    }
  }
}
