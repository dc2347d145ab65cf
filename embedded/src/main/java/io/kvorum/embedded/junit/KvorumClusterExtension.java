package io.kvorum.embedded.junit;

import io.kvorum.embedded.Kvorum;
import io.kvorum.embedded.KvorumCluster;
import java.net.URI;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An embedded Kvorum cluster for a JUnit 5 test, a stand-in for jetcd-test's {@code
 * EtcdClusterExtension} with the same builder and accessors, without Docker:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KvorumClusterExtension cluster = KvorumClusterExtension.builder().withNodes(3).build();
 *
 * @Test
 * void put_isReadBack() throws Exception {
 *   try (Client client = Client.builder().endpoints(cluster.clientEndpoints()).build()) {
 *     client.getKVClient().put(key, value).get();
 *   }
 * }
 * }</pre>
 *
 * <p><b>Lifecycle.</b> In a {@code static} field the cluster starts before the class's first test
 * and closes after its last; in an instance field a new cluster starts before each test method and
 * closes after it. Each start has fresh data in a temporary directory.
 *
 * <p>jetcd-test's Docker-only settings ({@code withImage}, {@code withNetwork}, {@code
 * withMountDirectory}, {@code withUser}) and {@code withDebug} have no counterpart; {@code
 * withAdditionalArgs} takes the etcd flags {@link Kvorum.Builder#etcdFlags} takes and refuses the
 * rest.
 */
public final class KvorumClusterExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, AfterEachCallback {
  /** Running clusters by name, as jetcd-test's {@code EtcdClusterExtension.cluster(name)} finds them. */
  private static final Map<String, KvorumCluster> CLUSTERS = new ConcurrentHashMap<>();

  private final Kvorum.Builder settings;
  private final String clusterName;
  private KvorumCluster cluster;
  /** Set while the extension runs per class: the per-method callbacks then leave the cluster alone. */
  private boolean perClass;

  private KvorumClusterExtension(Kvorum.Builder settings, String clusterName) {
    this.settings = settings;
    this.clusterName = clusterName;
  }

  /** A builder preset to one node, plaintext, a random cluster name. */
  public static Builder builder() {
    return new Builder();
  }

  /** The running cluster named {@code clusterName}, or null. */
  public static KvorumCluster cluster(String clusterName) {
    return CLUSTERS.get(clusterName);
  }

  /** The running cluster. */
  public synchronized KvorumCluster cluster() {
    if (cluster == null) {
      throw new IllegalStateException("cluster " + clusterName + " is not running (the extension starts it "
          + "before each test, or before all tests when registered in a static field)");
    }
    return cluster;
  }

  /** Stops every member, waits {@code delay} if positive, then starts them again on the same data and ports. */
  public void restart(long delay, TimeUnit unit) {
    KvorumCluster c = cluster();
    c.stop();
    if (delay > 0) {
      try {
        unit.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while restarting cluster " + clusterName, e);
      }
    }
    c.start();
  }

  /** The name the builder was given, or the random one it chose. */
  public String clusterName() {
    return clusterName;
  }

  /** See {@link KvorumCluster#clientEndpoints()}. */
  public List<URI> clientEndpoints() {
    return cluster().clientEndpoints();
  }

  /** See {@link KvorumCluster#peerEndpoints()}. */
  public List<URI> peerEndpoints() {
    return cluster().peerEndpoints();
  }

  /** With {@link Builder#withSsl(boolean)}: the PEM file of the certificates clients should trust. */
  public Path clientCertificates() {
    return cluster().clientCertificates();
  }

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    perClass = true;
    startCluster();
  }

  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    if (!perClass) {
      startCluster();
    }
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    if (!perClass) {
      closeCluster();
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    perClass = false;
    closeCluster();
  }

  private void startCluster() {
    if (cluster != null) {
      return;
    }
    KvorumCluster c = settings.clusterName(clusterName).build();
    if (CLUSTERS.putIfAbsent(clusterName, c) != null) {
      c.close();
      throw new IllegalStateException("a cluster named " + clusterName + " is already running");
    }
    try {
      c.start();
    } catch (RuntimeException e) {
      CLUSTERS.remove(clusterName, c);
      c.close();
      throw e;
    }
    cluster = c;
  }

  private void closeCluster() {
    KvorumCluster c = cluster;
    cluster = null;
    if (c != null) {
      try {
        c.close();
      } finally {
        CLUSTERS.remove(clusterName, c);
      }
    }
  }

  /** The settings, named as jetcd-test's {@code EtcdClusterExtension.Builder} names them. */
  public static final class Builder {
    private final Kvorum.Builder settings = Kvorum.builder();
    private String clusterName = java.util.UUID.randomUUID().toString();
    private boolean ssl;

    private Builder() {}

    /** The cluster's name and {@code --initial-cluster-token}; random by default. */
    public Builder withClusterName(String clusterName) {
      this.clusterName = Objects.requireNonNull(clusterName, "clusterName");
      return this;
    }

    /** Member names become {@code <prefix>kvorum<i>}. */
    public Builder withPrefix(String prefix) {
      settings.memberNamePrefix(prefix);
      return this;
    }

    /** The number of members, 1 (the default) to 15. */
    public Builder withNodes(int nodes) {
      settings.members(nodes);
      return this;
    }

    /**
     * Serves clients over TLS with self-signed certificates each member makes ({@code https}
     * endpoints); trust {@link KvorumClusterExtension#clientCertificates()}. Members talk to each
     * other in plaintext, as jetcd-test's do.
     */
    public Builder withSsl(boolean ssl) {
      this.ssl = ssl;
      return this;
    }

    /** etcd flags for every member; see {@link Kvorum.Builder#etcdFlags}. */
    public Builder withAdditionalArgs(Collection<String> additionalArgs) {
      settings.etcdFlags(additionalArgs);
      return this;
    }

    /** As {@link #withAdditionalArgs(Collection)}. */
    public Builder withAdditionalArgs(String... additionalArgs) {
      return withAdditionalArgs(List.of(additionalArgs));
    }

    /** Turns auth on with a {@code root} user (a Kvorum addition; see {@link Kvorum.Builder#authEnabled}). */
    public Builder withRootPassword(String rootPassword) {
      settings.authEnabled(rootPassword);
      return this;
    }

    /** The extension; register it with {@code @RegisterExtension}. */
    public KvorumClusterExtension build() {
      if (ssl) {
        settings.clientAutoTls();
      }
      return new KvorumClusterExtension(settings, clusterName);
    }
  }
}
