package io.kvorum.embedded;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free loopback ports for members that were not given ports, chosen below the kernel's ephemeral
 * range: a port the kernel hands out for binding 0 may be taken by any outgoing connection (a
 * client's, another member's) between the check and the member's bind, or while a member is
 * stopped for a restart on the same port. Below that range only a program that binds the very port
 * can take it; the member start then fails to bind and {@link KvorumCluster} starts again on other
 * ports.
 *
 * <p>The member's servers bind their own sockets (gRPC's Netty server takes an address, not a bound
 * socket), so a port is checked by binding it and releasing it at once.
 */
final class Ports {
  /** The lowest port handed out: above the registered ports most services use. */
  static final int FIRST = 10_000;
  /** Where Linux's ephemeral range starts when it cannot be read. */
  static final int EPHEMERAL_FIRST_DEFAULT = 32_768;
  /** Ports checked for one request before giving up. */
  static final int TRIES_MAX = 1_000;
  private static final int END = ephemeralFirst();
  /** One cursor for the JVM, started at a point the process id picks, so JVMs rarely pick alike. */
  private static final AtomicInteger NEXT =
      new AtomicInteger((int) Math.floorMod(ProcessHandle.current().pid() * 7919, (long) (END - FIRST)));

  private Ports() {}

  /** A loopback port nobody listens on now. */
  static int take() {
    for (int i = 0; i < TRIES_MAX; i++) {
      int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), END - FIRST);
      if (free(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port between " + FIRST + " and " + END + " after " + TRIES_MAX + " tries");
  }

  static boolean free(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** The first port of Linux's ephemeral range ({@code net.ipv4.ip_local_port_range}). */
  static int ephemeralFirst() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int first = Integer.parseInt(range.split("\\s+")[0]);
      return first > FIRST + 1_000 ? first : EPHEMERAL_FIRST_DEFAULT;
    } catch (IOException | RuntimeException e) {
      return EPHEMERAL_FIRST_DEFAULT;
    }
  }
}
