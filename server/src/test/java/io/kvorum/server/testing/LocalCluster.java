package io.kvorum.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Real members in one JVM on loopback for tests (50 ms heartbeat, 500 ms election timeout) on one
 * {@link FakeClock} that a {@link ClockPump} moves with real time in 10 ms steps until a test holds
 * it or jumps it, and a bounded wait for conditions that become true asynchronously.
 */
public final class LocalCluster implements AutoCloseable {
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
  private final Map<String, EtcdServer> members = new LinkedHashMap<>();
  private final Map<String, ServerConfig> configs = new LinkedHashMap<>();
  /** How each member started by {@link #start} was configured, to restart it with a change. */
  private final Map<String, Consumer<ServerConfig.Builder>> setups = new LinkedHashMap<>();
  /** Every member's clock: it follows real time in small steps until a test holds or moves it. */
  private final FakeClock clock = new FakeClock();
  private final ClockPump pump = ClockPump.start(clock, PUMP_STEP);
  static final Duration PUMP_STEP = Duration.ofMillis(10);

  private LocalCluster() {}

  /** The members' clock; a test jumps it to move time at once (a reconfiguration check, a lease). */
  public FakeClock clock() {
    return clock;
  }

  /** What moves {@link #clock()} with real time; a test holds it to have time move only when it says. */
  public ClockPump pump() {
    return pump;
  }

  /** Starts members named m1..m{@code size} under {@code dir}; {@code tune} adjusts each config. */
  public static LocalCluster start(Path dir, int size, Consumer<ServerConfig.Builder> tune) throws IOException {
    return start(dir, size, "http", tune);
  }

  /**
   * As {@link #start(Path, int, Consumer)}, with peer URLs of {@code scheme} ({@code https} needs
   * {@code tune} to set the peer TLS flags).
   */
  public static LocalCluster start(Path dir, int size, String scheme, Consumer<ServerConfig.Builder> tune)
      throws IOException {
    LocalCluster c = new LocalCluster();
    Map<String, Integer> ports = new LinkedHashMap<>();
    StringBuilder cluster = new StringBuilder();
    for (int i = 1; i <= size; i++) {
      String n = "m" + i;
      ports.put(n, freePort());
      cluster.append(cluster.length() == 0 ? "" : ",").append(n).append('=').append(scheme).append("://127.0.0.1:")
          .append(ports.get(n));
    }
    try {
      for (String n : ports.keySet()) {
        URI peer = URI.create(scheme + "://127.0.0.1:" + ports.get(n));
        Consumer<ServerConfig.Builder> setup = b -> {
          b.name = n;
          b.dataDir = dir.resolve(n);
          b.listenPeerUrls = List.of(peer);
          b.initialAdvertisePeerUrls = List.of(peer);
          b.initialCluster = cluster.toString();
          b.heartbeatIntervalMs = 50;
          b.electionTimeoutMs = 500;
          b.clock = c.clock;
          tune.accept(b);
        };
        ServerConfig.Builder b = ServerConfig.builder();
        setup.accept(b);
        c.setups.put(n, setup);
        c.configs.put(n, b.build());
        c.restart(n);
      }
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Starts a new member {@code name} that joins the running cluster ({@code --initial-cluster-state
   * existing}) at {@code peerUrl}; it must have been added with that URL first.
   */
  public EtcdServer join(String name, URI peerUrl, Consumer<ServerConfig.Builder> tune) throws IOException {
    StringBuilder cluster = new StringBuilder();
    for (Map.Entry<String, ServerConfig> e : configs.entrySet()) {
      if (members.containsKey(e.getKey())) {
        cluster.append(cluster.length() == 0 ? "" : ",").append(e.getKey()).append('=')
            .append(e.getValue().initialAdvertisePeerUrls.get(0));
      }
    }
    cluster.append(',').append(name).append('=').append(peerUrl);
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = name;
    b.dataDir = configs.values().iterator().next().dataDir.getParent().resolve(name);
    b.listenPeerUrls = List.of(peerUrl);
    b.initialAdvertisePeerUrls = List.of(peerUrl);
    b.initialCluster = cluster.toString();
    b.initialClusterState = ServerConfig.ClusterState.EXISTING;
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = 500;
    b.clock = clock;
    tune.accept(b);
    configs.put(name, b.build());
    return restart(name);
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Waits (bounded, polling) until {@code cond} holds. */
  public static void await(String what, BooleanSupplier cond) {
    long deadline = System.nanoTime() + WAIT_NANOS;
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  /** A call a test retries; it may throw anything. */
  @FunctionalInterface
  public interface Attempt<T> {
    T call() throws Exception;
  }

  /**
   * Calls {@code attempt} until it returns, as {@link #await} waits (bounded); a failure {@code
   * retry} does not accept (the cause inside an ExecutionException) ends the wait with that failure.
   */
  public static <T> T until(String what, Attempt<T> attempt, java.util.function.Predicate<Throwable> retry) {
    java.util.concurrent.atomic.AtomicReference<T> result = new java.util.concurrent.atomic.AtomicReference<>();
    await(what, () -> {
      try {
        result.set(attempt.call());
        return true;
      } catch (Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (retry.test(cause)) {
          return false;
        }
        throw new AssertionError("while waiting for: " + what, cause);
      }
    });
    return result.get();
  }

  /**
   * Runs a membership change that a strict reconfiguration check refuses until peers have been
   * connected for {@code healthInterval}: the clock jumps past the interval instead of the test
   * waiting it out, again while a peer is still connecting.
   */
  public <T> T reconfigure(Duration healthInterval, Attempt<java.util.concurrent.CompletableFuture<T>> change) {
    return until("the cluster accepts the change", () -> {
      clock.jump(healthInterval);
      return change.call().get(20, TimeUnit.SECONDS);
    }, t -> "etcdserver: unhealthy cluster".equals(t.getMessage()));
  }

  /** Starts member {@code name} again on its data (after {@link #stop} or a removal from {@link #members}). */
  public EtcdServer restart(String name) throws IOException {
    EtcdServer s = EtcdServer.start(configs.get(name));
    members.put(name, s);
    return s;
  }

  /**
   * Starts member {@code name} (one {@link #start} started) again on its data, configured as at its
   * first start and then changed by {@code change} (which stays for later restarts).
   */
  public EtcdServer restart(String name, Consumer<ServerConfig.Builder> change) throws IOException {
    Consumer<ServerConfig.Builder> setup = setups.get(name).andThen(change);
    ServerConfig.Builder b = ServerConfig.builder();
    setup.accept(b);
    setups.put(name, setup);
    configs.put(name, b.build());
    return restart(name);
  }

  /** Starts member {@code name} again on its data, listening for peers at {@code peerUrl} now. */
  public EtcdServer restartAt(String name, URI peerUrl) throws IOException {
    ServerConfig old = configs.get(name);
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = name;
    b.dataDir = old.dataDir;
    b.listenPeerUrls = List.of(peerUrl);
    b.initialAdvertisePeerUrls = List.of(peerUrl);
    b.initialCluster = name + "=" + peerUrl;
    b.heartbeatIntervalMs = old.heartbeatInterval.toMillis();
    b.electionTimeoutMs = old.electionTimeout.toMillis();
    b.snapshotCount = old.snapshotCount;
    b.clock = clock;
    configs.put(name, b.build());
    return restart(name);
  }

  /** The live members by name; tests may remove (and close) one themselves. */
  public Map<String, EtcdServer> members() {
    return members;
  }

  /** The leader, once one is elected and {@code ready} holds for it. */
  public EtcdServer leader(java.util.function.Predicate<EtcdServer> ready) {
    EtcdServer[] found = {null};
    await("a leader", () -> {
      for (EtcdServer s : members.values()) {
        if (s.raftStatus().isLeader() && ready.test(s)) {
          found[0] = s;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  /** Some member other than {@code m}. */
  public EtcdServer other(EtcdServer m) {
    return members.values().stream().filter(s -> s != m).findFirst().orElseThrow();
  }

  /** Stops member {@code m} as a crash would (no leadership hand-over) and forgets it. */
  public void stop(EtcdServer m) throws IOException {
    members.values().remove(m);
    m.hardStop();
  }

  @Override
  public void close() throws IOException {
    try {
      for (EtcdServer s : members.values()) {
        s.hardStop();
      }
      members.clear();
    } finally {
      pump.close();
    }
  }
}
