package io.kvorum.embedded;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Where an embedded Kvorum starts: {@code Kvorum.builder().members(3).build()} gives a {@link
 * KvorumCluster} of three members in this JVM, each its own etcd-compatible server on loopback
 * ports, which {@link KvorumCluster#start()} starts.
 *
 * <pre>{@code
 * try (KvorumCluster kvorum = Kvorum.builder().members(3).build().start();
 *      Client client = Client.builder().endpoints(kvorum.clientEndpoints().toArray(URI[]::new)).build()) {
 *   client.getKVClient().put(key, value).get();
 * }
 * }</pre>
 */
public final class Kvorum {
  private Kvorum() {}

  /** A builder preset to one member, plaintext, auth off, a temporary data directory and free ports. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The settings of an embedded cluster. Every method checks its argument at once; {@link #build()}
   * checks the combination. A builder may build several clusters, each with its own data and ports.
   */
  public static final class Builder {
    /** More members than any test or single host needs; bounds the ports and threads one cluster takes. */
    static final int MEMBERS_MAX = 15;

    int members = 1;
    Path dataDir;
    TlsFiles clientTls = TlsFiles.NONE;
    TlsFiles peerTls = TlsFiles.NONE;
    String rootPassword;
    String clusterName;
    String clusterToken;
    String memberNamePrefix = "";
    int clientPort;
    int peerPort;
    EtcdArgs etcdArgs = EtcdArgs.NONE;

    Builder() {}

    /** The number of voting members, 1 (the default) to 15. */
    public Builder members(int members) {
      if (members < 1 || members > MEMBERS_MAX) {
        throw new IllegalArgumentException("members must be 1.." + MEMBERS_MAX + " (set to " + members + ")");
      }
      this.members = members;
      return this;
    }

    /**
     * Keeps the members' data under {@code dataDir} ({@code dataDir/<member name>}), which {@link
     * KvorumCluster#close()} leaves in place. Without it each cluster takes a temporary directory
     * and deletes it on close. A later cluster on the same directory continues from the data when
     * it has the same member names and peer ports (give {@link #peerPort(int)}).
     */
    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
      return this;
    }

    /**
     * Serves clients over TLS with the given PEM certificate (chain) and key ({@code https}
     * endpoints); etcd's {@code --cert-file}/{@code --key-file}.
     */
    public Builder clientTls(Path certFile, Path keyFile) {
      this.clientTls = new TlsFiles(Objects.requireNonNull(certFile, "certFile"),
          Objects.requireNonNull(keyFile, "keyFile"), null, false);
      return this;
    }

    /**
     * As {@link #clientTls(Path, Path)}, and clients must present a certificate {@code trustedCaFile}
     * signed; etcd's {@code --trusted-ca-file} with {@code --client-cert-auth}.
     */
    public Builder clientTls(Path certFile, Path keyFile, Path trustedCaFile) {
      this.clientTls = new TlsFiles(Objects.requireNonNull(certFile, "certFile"),
          Objects.requireNonNull(keyFile, "keyFile"), Objects.requireNonNull(trustedCaFile, "trustedCaFile"), false);
      return this;
    }

    /**
     * Serves clients over TLS with a self-signed certificate each member makes for its loopback
     * address (etcd's {@code --auto-tls}); {@link KvorumCluster#clientCertificates()} names the file
     * of those certificates for clients to trust. For tests.
     */
    public Builder clientAutoTls() {
      this.clientTls = TlsFiles.GENERATED;
      return this;
    }

    /** Members talk to each other over TLS with the given PEM certificate and key ({@code --peer-cert-file}...). */
    public Builder peerTls(Path certFile, Path keyFile, Path trustedCaFile) {
      this.peerTls = new TlsFiles(Objects.requireNonNull(certFile, "certFile"),
          Objects.requireNonNull(keyFile, "keyFile"), Objects.requireNonNull(trustedCaFile, "trustedCaFile"), false);
      return this;
    }

    /** Members talk to each other over TLS with self-signed certificates, unverified (etcd's {@code --peer-auto-tls}). */
    public Builder peerAutoTls() {
      this.peerTls = TlsFiles.GENERATED;
      return this;
    }

    /**
     * Turns authentication on when the cluster first starts: creates the user {@code root} with
     * {@code rootPassword} and the {@code root} role, then enables auth, as {@code etcdctl user add
     * root} and {@code etcdctl auth enable} would.
     */
    public Builder authEnabled(String rootPassword) {
      Objects.requireNonNull(rootPassword, "rootPassword");
      if (rootPassword.isEmpty()) {
        throw new IllegalArgumentException("the root password must not be empty");
      }
      this.rootPassword = rootPassword;
      return this;
    }

    /** The cluster's name (default: a random one); also its {@code --initial-cluster-token} unless {@link #clusterToken} is set. */
    public Builder clusterName(String clusterName) {
      this.clusterName = requireText(clusterName, "clusterName");
      return this;
    }

    /** etcd's {@code --initial-cluster-token}: members of clusters with different tokens refuse each other. */
    public Builder clusterToken(String clusterToken) {
      this.clusterToken = requireText(clusterToken, "clusterToken");
      return this;
    }

    /** Member names are {@code <prefix>kvorum<i>}, {@code i} from 0; the prefix is empty by default. */
    public Builder memberNamePrefix(String prefix) {
      this.memberNamePrefix = Objects.requireNonNull(prefix, "prefix");
      return this;
    }

    /** Member {@code i} serves clients on {@code firstPort + i}; by default each member takes a free port. */
    public Builder clientPort(int firstPort) {
      this.clientPort = checkPort(firstPort);
      return this;
    }

    /** Member {@code i} listens for peers on {@code firstPort + i}; by default each member takes a free port. */
    public Builder peerPort(int firstPort) {
      this.peerPort = checkPort(firstPort);
      return this;
    }

    /**
     * etcd flags that tune the members, as on etcd's command line ({@code "--max-txn-ops", "1024"}
     * or {@code "--auth-token=jwt,..."}): max-txn-ops, max-request-bytes, quota-backend-bytes,
     * snapshot-count, heartbeat-interval, election-timeout, pre-vote, strict-reconfig-check,
     * auth-token, auth-token-ttl, bcrypt-cost, auto-compaction-mode, auto-compaction-retention and
     * some experimental ones. Flags the builder owns (names, directories, URLs, cluster, TLS) and
     * unknown flags are refused.
     *
     * @throws IllegalArgumentException naming the flag that is refused or has a bad value
     */
    public Builder etcdFlags(Collection<String> flags) {
      this.etcdArgs = EtcdArgs.parse(List.copyOf(flags));
      return this;
    }

    /** A cluster with these settings, not yet started. */
    public KvorumCluster build() {
      if (clientPort != 0 && clientPort + members - 1 > 65_535 || peerPort != 0 && peerPort + members - 1 > 65_535) {
        throw new IllegalArgumentException("ports for " + members + " members run past 65535");
      }
      if (clientPort != 0 && peerPort != 0 && clientPort < peerPort + members && peerPort < clientPort + members) {
        throw new IllegalArgumentException("client ports " + clientPort + ".. and peer ports " + peerPort + ".. overlap");
      }
      String name = clusterName != null ? clusterName : UUID.randomUUID().toString();
      return new KvorumCluster(this, name, clusterToken != null ? clusterToken : name);
    }

    private static String requireText(String s, String what) {
      Objects.requireNonNull(s, what);
      if (s.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank");
      }
      return s;
    }

    private static int checkPort(int port) {
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("port must be 1..65535 (set to " + port + ")");
      }
      return port;
    }
  }
}
