package io.kvorum.embedded;

import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.tls.TlsMaterial;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * An etcd-compatible cluster in this JVM: {@link #size()} members, each its own server with its own
 * data directory, serving clients and peers on loopback ports. Made by {@link Kvorum#builder()};
 * nothing runs until {@link #start()}. Members are numbered from 0, in the order of {@link
 * #clientEndpoints()}.
 *
 * <p><b>Ready.</b> {@link #start()} and {@link #restart(int)} return once every started member
 * serves clients and has applied its own entry in the log (etcd's "published" member): a leader is
 * elected and the member caught up with it. They wait at most {@link #READY_TIMEOUT}.
 *
 * <p><b>Ports.</b> Without {@link Kvorum.Builder#clientPort} and {@link Kvorum.Builder#peerPort},
 * ports are chosen when the cluster is built, below the kernel's ephemeral range so that no
 * outgoing connection takes one while a member is stopped. The servers bind their own sockets, so
 * a port is found free by binding and releasing it; if another program binds it before the member
 * does, the first {@link #start()} of a cluster with fresh data stops what it started, forgets that
 * data and starts the whole cluster again on new ports, at most {@link #START_ATTEMPTS_MAX} times.
 * A restart always uses the member's ports: its identity in the cluster is made from them.
 *
 * <p><b>Stopping.</b> {@link #stop(int)} stops a member cleanly (a leader hands leadership over
 * first); {@link #close()} stops every member at once and deletes a temporary data directory.
 * Methods are safe to call from any thread; they run one at a time.
 */
public final class KvorumCluster implements AutoCloseable {
  /** The longest {@link #start()} or {@link #restart(int)} waits for members to become ready. */
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
  /**
   * The members' {@code --heartbeat-interval} unless a flag says otherwise: half etcd's. A fresh
   * member's first election comes a random 1 to 11 heartbeats after start (what is left of raft's
   * randomized election timeout once etcd's initial tick advance is spent), so the heartbeat sets
   * most of a start's time.
   */
  static final long HEARTBEAT_INTERVAL_MS_DEFAULT = 50;
  /** The members' {@code --election-timeout} unless a flag says otherwise: ten heartbeats, as etcd's. */
  static final long ELECTION_TIMEOUT_MS_DEFAULT = 500;
  /**
   * A one-member cluster's heartbeat: with no peer there is no election to lose to a slow
   * heartbeat, so it ticks faster and elects itself within about 110 ms.
   */
  static final long HEARTBEAT_INTERVAL_MS_ALONE = 10;
  static final long ELECTION_TIMEOUT_MS_ALONE = 100;
  /** Whole-cluster starts tried when a chosen port turns out to be taken (see the class note). */
  static final int START_ATTEMPTS_MAX = 5;
  /** The user and role {@link Kvorum.Builder#authEnabled} creates. */
  static final String ROOT = "root";

  private final String clusterName;
  private final String clusterToken;
  private final int size;
  private final String namePrefix;
  private final int firstClientPort;
  private final int firstPeerPort;
  private final TlsFiles clientTls;
  private final TlsFiles peerTls;
  private final String rootPassword;
  private final EtcdArgs etcdArgs;
  private final Path root;
  private final boolean temporaryRoot;
  private List<Member> members;
  private boolean started;
  private boolean closed;

  KvorumCluster(Kvorum.Builder b, String clusterName, String clusterToken) {
    this.clusterName = clusterName;
    this.clusterToken = clusterToken;
    this.size = b.members;
    this.namePrefix = b.memberNamePrefix;
    this.firstClientPort = b.clientPort;
    this.firstPeerPort = b.peerPort;
    this.clientTls = b.clientTls;
    this.peerTls = b.peerTls;
    this.rootPassword = b.rootPassword;
    this.etcdArgs = b.etcdArgs;
    this.temporaryRoot = b.dataDir == null;
    try {
      this.root = temporaryRoot ? Files.createTempDirectory("kvorum-") : Files.createDirectories(b.dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data directory", e);
    }
    try {
      this.members = newMembers();
    } catch (RuntimeException e) {
      deleteQuietly(temporaryRoot ? root : null);
      throw e;
    }
  }

  /** The members' configurations, on the builder's ports or newly chosen ones. */
  private List<Member> newMembers() {
    String scheme = clientTls.enabled() ? "https" : "http";
    String peerScheme = peerTls.enabled() ? "https" : "http";
    List<String> names = new ArrayList<>();
    List<URI> clientUrls = new ArrayList<>();
    List<URI> peerUrls = new ArrayList<>();
    StringBuilder initialCluster = new StringBuilder();
    for (int i = 0; i < size; i++) {
      String name = namePrefix + "kvorum" + i;
      int clientPort = firstClientPort != 0 ? firstClientPort + i : Ports.take();
      int peerPort = firstPeerPort != 0 ? firstPeerPort + i : Ports.take();
      names.add(name);
      clientUrls.add(URI.create(scheme + "://127.0.0.1:" + clientPort));
      peerUrls.add(URI.create(peerScheme + "://127.0.0.1:" + peerPort));
      initialCluster.append(i == 0 ? "" : ",").append(name).append('=').append(peerUrls.get(i));
    }
    List<Member> out = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ServerConfig.Builder c = ServerConfig.builder();
      c.name = names.get(i);
      c.dataDir = root.resolve(names.get(i));
      c.listenClientUrls = List.of(clientUrls.get(i));
      c.advertiseClientUrls = List.of(clientUrls.get(i));
      c.listenPeerUrls = List.of(peerUrls.get(i));
      c.initialAdvertisePeerUrls = List.of(peerUrls.get(i));
      c.initialCluster = initialCluster.toString();
      c.initialClusterToken = clusterToken;
      c.clientTls = clientTls.config();
      c.peerTls = peerTls.config();
      c.heartbeatIntervalMs = size == 1 ? HEARTBEAT_INTERVAL_MS_ALONE : HEARTBEAT_INTERVAL_MS_DEFAULT;
      c.electionTimeoutMs = size == 1 ? ELECTION_TIMEOUT_MS_ALONE : ELECTION_TIMEOUT_MS_DEFAULT;
      etcdArgs.applyTo(c);
      out.add(new Member(names.get(i), clientUrls.get(i), peerUrls.get(i), c.build()));
    }
    return List.copyOf(out);
  }

  /**
   * Starts every member that is not running and waits until all are ready (see the class note).
   * The first start of a cluster with fresh data also turns auth on when the builder asked.
   *
   * @return this cluster
   * @throws UncheckedIOException when a member cannot open its data or bind its ports
   * @throws IllegalStateException when the cluster is closed, or members are not ready in time
   */
  public synchronized KvorumCluster start() {
    checkOpen();
    boolean fresh = !started && members.stream().noneMatch(m -> Files.exists(m.config.memberDir()));
    boolean portsChosen = firstClientPort == 0 || firstPeerPort == 0;
    for (int attempt = 1; ; attempt++) {
      List<Member> startedNow = new ArrayList<>();
      try {
        for (Member m : members) {
          if (!m.running()) {
            m.start();
            startedNow.add(m);
          }
        }
        awaitReady(members);
        break;
      } catch (IOException | RuntimeException e) {
        for (Member m : startedNow) {
          stopQuietly(m, e);
        }
        if (!(fresh && portsChosen && bindFailure(e) && attempt < START_ATTEMPTS_MAX)) {
          throw e instanceof IOException io ? new UncheckedIOException("cluster " + clusterName + " failed to start", io)
              : (RuntimeException) e;
        }
        for (Member m : members) {
          stopQuietly(m, e);
          deleteQuietly(m.dataDir());
        }
        members = newMembers();
      }
    }
    started = true;
    if (fresh && rootPassword != null) {
      enableAuth();
    }
    return this;
  }

  /** Stops member {@code member} cleanly; its data and ports stay for {@link #restart(int)}. */
  public synchronized void stop(int member) {
    checkOpen();
    Member m = member(member);
    try {
      m.stop(true);
    } catch (IOException e) {
      throw new UncheckedIOException("member " + m.name + " failed to stop", e);
    }
  }

  /** Stops every member cleanly, keeping data and ports; {@link #start()} starts them again. */
  public synchronized void stop() {
    checkOpen();
    for (int i = 0; i < size; i++) {
      stop(i);
    }
  }

  /**
   * Stops member {@code member} if it runs and starts it again on the same data and ports; returns
   * once it is ready.
   */
  public synchronized void restart(int member) {
    checkOpen();
    Member m = member(member);
    stop(member);
    try {
      m.start();
      awaitReady(List.of(m));
    } catch (IOException e) {
      throw new UncheckedIOException("member " + m.name + " failed to restart", e);
    }
  }

  /** Stops every member, then starts them all again on the same data and ports; returns once all are ready. */
  public synchronized void restart() {
    stop();
    start();
  }

  /** The members' client URLs ({@code http://127.0.0.1:port}, {@code https} with client TLS), member 0 first. */
  public synchronized List<URI> clientEndpoints() {
    return members.stream().map(m -> m.clientUrl).toList();
  }

  /** The members' peer URLs, member 0 first. */
  public synchronized List<URI> peerEndpoints() {
    return members.stream().map(m -> m.peerUrl).toList();
  }

  /** The number of members. */
  public int size() {
    return size;
  }

  /** The name given to the builder, or the random one it chose. */
  public String clusterName() {
    return clusterName;
  }

  /** Whether member {@code member} runs. */
  public synchronized boolean isRunning(int member) {
    return member(member).running();
  }

  /**
   * A PEM file of the certificates a client should trust to reach the members over TLS: with
   * {@link Kvorum.Builder#clientAutoTls()} every member's self-signed certificate (written at start,
   * so call it after {@link #start()}); with given files the member's certificate file; null
   * without client TLS.
   */
  public synchronized Path clientCertificates() {
    if (!clientTls.enabled()) {
      return null;
    }
    if (!clientTls.generated()) {
      return clientTls.certFile();
    }
    if (!started) {
      throw new IllegalStateException("the members make their certificates when they start; start the cluster first");
    }
    Path bundle = root.resolve("client-certificates.pem");
    StringBuilder pem = new StringBuilder();
    try {
      for (Member m : members) {
        pem.append(Files.readString(TlsMaterial.autoTlsCertFile(m.dataDir(), "client")));
      }
      Files.writeString(bundle, pem);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot collect the members' certificates", e);
    }
    return bundle;
  }

  /** Stops every member (without leadership hand-over) and deletes the data directory if it is a temporary one. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException failure = null;
    for (Member m : members) {
      try {
        m.stop(false);
      } catch (IOException | RuntimeException e) {
        if (failure == null) {
          failure = new IllegalStateException("cluster " + clusterName + " did not stop cleanly", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (temporaryRoot) {
      deleteQuietly(root);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Where the members keep their data (tests). */
  Path dataDir() {
    return root;
  }

  private Member member(int member) {
    if (member < 0 || member >= size) {
      throw new IndexOutOfBoundsException("member " + member + " of a cluster of " + size);
    }
    return members.get(member);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cluster " + clusterName + " is closed");
    }
  }

  /** Waits, at most {@link #READY_TIMEOUT} in all, until every member in {@code ms} is ready. */
  private static void awaitReady(List<Member> ms) {
    CompletableFuture<?>[] ready = ms.stream().map(Member::ready).toArray(CompletableFuture<?>[]::new);
    List<String> names = ms.stream().map(m -> m.name).toList();
    await(CompletableFuture.allOf(ready), "members " + names + " to be ready");
  }

  private static <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out after " + READY_TIMEOUT.toSeconds() + "s waiting for " + what, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("failed waiting for " + what + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + what, e);
    }
  }

  /** Creates {@code root} with the root role, then enables auth, through member 0. */
  private void enableAuth() {
    AuthServer auth = members.get(0).server().auth();
    RequestContext ctx = RequestContext.of("kvorum-embedded");
    await(auth.userAdd(ctx, AuthUserAddRequest.newBuilder().setName(ROOT).setPassword(rootPassword).build())
        .thenCompose(added -> auth.userGrantRole(ctx,
            AuthUserGrantRoleRequest.newBuilder().setUser(ROOT).setRole(ROOT).build()))
        .thenCompose(granted -> auth.authEnable(ctx)), "auth to be enabled with user " + ROOT);
  }

  /** True when {@code e} (or a cause) says an address was in use. */
  static boolean bindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  private static void stopQuietly(Member m, Throwable into) {
    try {
      m.stop(false);
    } catch (IOException | RuntimeException e) {
      into.addSuppressed(e);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort: a temporary directory left behind is the only cost.
    }
  }
}
