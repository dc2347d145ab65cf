package io.kvorum.tests;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One member started as an operator would start etcd: {@code bin/kvorum} or a real {@code etcd}
 * binary, with etcd's flags.
 */
public final class MemberProcess {
  /** A member must print its readiness line within this time. */
  static final long START_TIMEOUT_MS = 60_000;

  public final String name;
  public final Path dataDir;
  public final int clientPort;
  public final int peerPort;
  private final String binary;
  private final String initialCluster;
  private final List<String> flags;
  private final Path log;
  private Process process;
  private int starts;
  /** Before the binary: {@code ip netns exec NS} for a member in a namespace. */
  private List<String> commandPrefix = List.of();
  /** The address in the member's URLs. */
  private String host = "127.0.0.1";
  /** Environment added to the next starts (e.g. {@code KVORUM_FAILPOINTS}); see {@link #environment}. */
  private final java.util.Map<String, String> environment = new java.util.LinkedHashMap<>();

  /**
   * @param binary the server to run ({@link #kvorumLauncher()} or an etcd binary)
   * @param flags further etcd flags, after the ones every member gets
   */
  public MemberProcess(String binary, String name, Path dir, int clientPort, int peerPort, String initialCluster,
      List<String> flags) {
    this.binary = binary;
    this.name = name;
    this.dataDir = dir.resolve(name + ".etcd");
    this.log = dir.resolve(name + ".log");
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.initialCluster = initialCluster;
    this.flags = List.copyOf(flags);
  }

  /** {@code bin/kvorum}, as the build passes it to the process suites. */
  public static String kvorumLauncher() {
    return System.getProperty("kvorum.launcher", "../bin/kvorum");
  }

  /** Where {@link #freePort} looks: below Linux's ephemeral range, above etcd's e2e ports. */
  static final int PORT_FIRST = 21000;
  static final int PORT_LAST = 32000;
  /** Ports tried before falling back to one the kernel picks. */
  static final int PORT_TRIES_MAX = 200;
  private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
      new java.util.concurrent.atomic.AtomicInteger(PORT_FIRST
          + (int) (ProcessHandle.current().pid() * 7919 % (PORT_LAST - PORT_FIRST)));

  /**
   * A port free now, chosen outside the kernel's ephemeral range: a port the kernel hands out for
   * binding 0 may be taken again by any outgoing connection (a client's, another member's) before
   * the member binds it, and then the member fails to start.
   */
  public static int freePort() throws IOException {
    for (int i = 0; i < PORT_TRIES_MAX; i++) {
      int port = PORT_FIRST + Math.floorMod(NEXT_PORT.getAndIncrement() - PORT_FIRST, PORT_LAST - PORT_FIRST);
      try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // Someone else's: try the next one.
      }
    }
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Runs the member behind {@code prefix} (e.g. {@code ip netns exec NS}, which execs it, so the
   * process handle is still the server's) with {@code host} in its URLs instead of loopback.
   */
  public MemberProcess placed(List<String> prefix, String host) {
    this.commandPrefix = List.copyOf(prefix);
    this.host = host;
    return this;
  }

  /** Sets an environment variable of the member's process (failpoints, say), from the next start. */
  public MemberProcess environment(String name, String value) {
    if (value == null) {
      environment.remove(name);
    } else {
      environment.put(name, value);
    }
    return this;
  }

  public String host() {
    return host;
  }

  /** The process of the latest start (the server's own, for signals and its exit status). */
  public Process process() {
    return process;
  }

  public String peerUrl() {
    return "http://" + host + ":" + peerPort;
  }

  public String clientUrl() {
    return "http://" + host + ":" + clientPort;
  }

  /** The newest output of this member (for failure messages). */
  public Path logFile() {
    return log.resolveSibling(name + "-" + starts + ".log");
  }

  /** Starts (or restarts on the same data dir) and waits for the readiness line. */
  public void start() throws IOException {
    List<String> cmd = new ArrayList<>(commandPrefix);
    cmd.addAll(List.of(binary,
        "--name", name, "--data-dir", dataDir.toString(),
        "--listen-client-urls", clientUrl(), "--advertise-client-urls", clientUrl(),
        "--listen-peer-urls", peerUrl(), "--initial-advertise-peer-urls", peerUrl(),
        "--initial-cluster", initialCluster));
    cmd.addAll(flags);
    starts++;
    Path out = logFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().putAll(environment);
    process = pb.start();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      // etcd prints "published local member" (zap) or "published {Name:...}" (capnslog); Kvorum the former.
      if (Files.exists(out) && Files.readString(out, StandardCharsets.UTF_8).contains("published")) {
        return;
      }
      if (!process.isAlive()) {
        throw new IOException(name + " exited with " + process.exitValue() + ": " + Files.readString(out));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
    throw new IOException(name + " did not become ready: " + Files.readString(out));
  }

  /**
   * Starts the members of a new cluster together (each waits for the others before it is ready);
   * throws the first failure.
   */
  public static void startTogether(List<MemberProcess> members) throws IOException, InterruptedException {
    List<IOException> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Thread> starters = new ArrayList<>();
    for (MemberProcess m : members) {
      Thread t = new Thread(() -> {
        try {
          m.start();
        } catch (IOException e) {
          failures.add(e);
        }
      }, "start-" + m.name);
      t.start();
      starters.add(t);
    }
    for (Thread t : starters) {
      t.join();
    }
    if (!failures.isEmpty()) {
      throw failures.get(0);
    }
  }

  /** SIGKILL: no shutdown hook, no flush; only what was fsynced survives (modulo page cache). */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the member shuts down as an operator would stop it; SIGKILL if it has not within the timeout. */
  public void stop() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(START_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        kill();
      }
    }
  }

  /** Sends a signal by name ({@code STOP}, {@code CONT}, …) to the running member. */
  public void signal(String name) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** Whether the member's process is running (a stopped one counts as running). */
  public boolean alive() {
    return process != null && process.isAlive();
  }

  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }
}
