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

/** One member started through {@code bin/kvorum}, as an operator would start etcd. */
final class MemberProcess {
  /** A member must print its readiness line within this time. */
  static final long START_TIMEOUT_MS = 60_000;

  final String name;
  final Path dataDir;
  final int clientPort;
  final int peerPort;
  private final String initialCluster;
  private final Path log;
  private Process process;
  private int starts;

  MemberProcess(String name, Path dir, int clientPort, int peerPort, String initialCluster) {
    this.name = name;
    this.dataDir = dir.resolve(name + ".etcd");
    this.log = dir.resolve(name + ".log");
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.initialCluster = initialCluster;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  String peerUrl() {
    return "http://127.0.0.1:" + peerPort;
  }

  String clientUrl() {
    return "http://127.0.0.1:" + clientPort;
  }

  /** Starts (or restarts on the same data dir) and waits for the readiness line. */
  void start() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(System.getProperty("kvorum.launcher", "../bin/kvorum"),
        "--name", name, "--data-dir", dataDir.toString(),
        "--listen-client-urls", clientUrl(), "--advertise-client-urls", clientUrl(),
        "--listen-peer-urls", peerUrl(), "--initial-advertise-peer-urls", peerUrl(),
        "--initial-cluster", initialCluster, "--initial-cluster-token", "it",
        "--heartbeat-interval", "50", "--election-timeout", "500"));
    starts++;
    Path out = log.resolveSibling(name + "-" + starts + ".log");
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      if (Files.exists(out) && Files.readString(out, StandardCharsets.UTF_8).contains("published local member")) {
        return;
      }
      if (!process.isAlive()) {
        throw new IOException(name + " exited with " + process.exitValue() + ": " + Files.readString(out));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
    throw new IOException(name + " did not become ready: " + Files.readString(out));
  }

  /** SIGKILL: no shutdown hook, no flush; only what was fsynced survives (modulo page cache). */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }
}
