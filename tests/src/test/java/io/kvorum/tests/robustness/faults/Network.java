package io.kvorum.tests.robustness.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private network for the members of a process cluster: one Linux network namespace per member,
 * each joined by a veth pair to a bridge in the test's own namespace, so the members talk to each
 * other over real interfaces and the test reaches every member's ports over the bridge.
 *
 * <p><b>Addresses.</b> The bridge is {@code 10.231.N.1/24} and member {@code i} is
 * {@code 10.231.N.(i+2)}, with {@code N} chosen from this process's id and skipping any subnet an
 * interface here already has, so concurrent runs do not collide. Every name (namespaces
 * {@code kvorum-PID-K-i}, bridge {@code kvbP_K}, host-side veths {@code kvP_KhI}, with P the pid in
 * base 36) carries the owning pid; {@link #sweep} removes those of processes that are gone.
 *
 * <p><b>Faults.</b> A cut from member a to member b drops, silently, every IP packet a sends to
 * b: b's namespace gets the policy rule {@code from ADDR(a) iif eth0 blackhole}, consulted before
 * the local table (which this class moves from priority 0 to 100 for that). The rule sits on the
 * receiving side because a blackhole route on the sending side makes the sender's own calls fail
 * at once ({@code EINVAL}) instead of losing packets, and a cut there would also drop b's replies
 * to a, making one-way two-way. Only members' addresses are matched: traffic from the test
 * (the bridge's address) always passes, so clients keep reaching every member, as in etcd's
 * robustness tests, which cut peer traffic only. TCP needs both directions, so a one-way cut stops
 * TCP connections both ways; datagrams show the drop is one-way. The kernel here has no
 * {@code netem}, so delay and reordering come from the peer transport's failpoints instead.
 *
 * <p>Needs root (the {@code ip} tool with {@code CAP_NET_ADMIN}). {@link #close} deletes everything,
 * also after a failure; a JVM shutdown hook does too, and {@link #create} sweeps the leftovers of
 * dead runs first.
 */
public final class Network implements AutoCloseable {
  /** How long one {@code ip} command may take. */
  static final long COMMAND_TIMEOUT_MS = 10_000;
  /** Members on one network (addresses .2 up to .2+MEMBERS_MAX-1 of the /24). */
  static final int MEMBERS_MAX = 32;
  /** The second octet's first two: every network is a /24 inside {@code 10.231.0.0/16}. */
  static final String PREFIX = "10.231.";
  static final String NAMESPACE_PREFIX = "kvorum-";
  /** The priority of the cut rules; the local table moves behind them. */
  static final int CUT_PRIORITY = 10;
  static final int LOCAL_PRIORITY = 100;

  private static final long PID = ProcessHandle.current().pid();
  private static final AtomicInteger NEXT = new AtomicInteger();
  private static final Pattern OWNED_NAMESPACE = Pattern.compile("^" + NAMESPACE_PREFIX + "(\\d+)-\\d+-\\d+$");
  private static final Pattern OWNED_BRIDGE = Pattern.compile("^kvb([0-9a-z]+)_[0-9a-z]+$");

  private final String id;
  private final String bridge;
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();
  /** Cuts in place, as (from, to). */
  private final Set<List<Integer>> cuts = new LinkedHashSet<>();
  private final Thread hook;
  private boolean closed;

  private Network(int members) throws IOException {
    int k = NEXT.getAndIncrement();
    this.id = Long.toString(PID, 36) + "_" + Integer.toString(k, 36);
    this.bridge = "kvb" + id;
    this.subnet = PREFIX + freeSubnet(k) + ".";
    for (int i = 0; i < members; i++) {
      namespaces.add(NAMESPACE_PREFIX + PID + "-" + k + "-" + i);
    }
    this.hook = new Thread(this::deleteQuietly, "network-cleanup-" + id);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Makes a network for {@code members} members, after sweeping up dead runs' leftovers. */
  public static Network create(int members) throws IOException {
    if (members < 1 || members > MEMBERS_MAX) {
      throw new IllegalArgumentException("members must be 1.." + MEMBERS_MAX + ": " + members);
    }
    sweep();
    Network n = new Network(members);
    try {
      n.build();
    } catch (IOException | RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  private void build() throws IOException {
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", subnet + "1/24", "dev", bridge);
    ip("link", "set", bridge, "up");
    for (int i = 0; i < namespaces.size(); i++) {
      String ns = namespaces.get(i);
      String host = "kv" + id + "h" + i;
      String inside = "kv" + id + "n" + i;
      ip("netns", "add", ns);
      ip("link", "add", host, "type", "veth", "peer", "name", inside);
      ip("link", "set", host, "master", bridge, "up");
      ip("link", "set", inside, "netns", ns);
      ip("-n", ns, "link", "set", inside, "name", "eth0");
      ip("-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
      ip("-n", ns, "link", "set", "lo", "up");
      // The cut rules must come before the local table, or packets for this member's own address
      // are delivered before any rule can drop them.
      ip("-n", ns, "rule", "add", "pref", String.valueOf(LOCAL_PRIORITY), "lookup", "local");
      ip("-n", ns, "rule", "del", "pref", "0");
    }
  }

  /** How many members the network has. */
  public int size() {
    return namespaces.size();
  }

  /** Member {@code i}'s address: where it listens and where its peers and the test reach it. */
  public String address(int member) {
    check(member);
    return subnet + (member + 2);
  }

  /** The test's own address on the bridge; never cut. */
  public String testAddress() {
    return subnet + "1";
  }

  /** Member {@code i}'s namespace name. */
  public String namespace(int member) {
    check(member);
    return namespaces.get(member);
  }

  /**
   * What to put before a command to run it in member {@code i}'s namespace. {@code ip netns exec}
   * execs the command (the process's pid is the command's), so signals to the process reach it.
   */
  public List<String> commandPrefix(int member) {
    return List.of("ip", "netns", "exec", namespace(member));
  }

  /** Cuts {@code member} off from every other member, both ways. */
  public synchronized void isolate(int member) throws IOException {
    for (int other = 0; other < size(); other++) {
      if (other != member) {
        cut(member, other);
        cut(other, member);
      }
    }
  }

  /** Cuts every member of {@code a} off from every member of {@code b}, both ways. */
  public synchronized void split(Set<Integer> a, Set<Integer> b) throws IOException {
    for (int x : a) {
      for (int y : b) {
        if (x == y) {
          throw new IllegalArgumentException("member " + x + " is on both sides");
        }
        cut(x, y);
        cut(y, x);
      }
    }
  }

  /** {@code a} and {@code c} cannot reach each other; both still reach {@code hub}. */
  public synchronized void bridge(int a, int hub, int c) throws IOException {
    if (a == hub || c == hub || a == c) {
      throw new IllegalArgumentException("a bridge needs three members: " + a + ", " + hub + ", " + c);
    }
    cut(a, c);
    cut(c, a);
  }

  /** Drops what {@code from} sends to {@code to}; the other direction still carries packets. */
  public synchronized void dropOneWay(int from, int to) throws IOException {
    cut(from, to);
  }

  /** Removes every cut. */
  public synchronized void heal() throws IOException {
    for (List<Integer> c : List.copyOf(cuts)) {
      ip("-n", namespace(c.get(1)), "rule", "del", "pref", String.valueOf(CUT_PRIORITY), "from",
          address(c.get(0)), "iif", "eth0", "blackhole");
      cuts.remove(c);
    }
  }

  /** The cuts in place, as (from, to) pairs. */
  public synchronized Set<List<Integer>> cuts() {
    return Set.copyOf(cuts);
  }

  private void cut(int from, int to) throws IOException {
    check(from);
    check(to);
    if (from == to) {
      throw new IllegalArgumentException("a member cannot be cut from itself: " + from);
    }
    if (cuts.add(List.of(from, to))) {
      ip("-n", namespace(to), "rule", "add", "pref", String.valueOf(CUT_PRIORITY), "from", address(from),
          "iif", "eth0", "blackhole");
    }
  }

  private void check(int member) {
    if (member < 0 || member >= namespaces.size()) {
      throw new IndexOutOfBoundsException("no member " + member + " on a network of " + namespaces.size());
    }
  }

  /** Deletes the namespaces (and with them the veth pairs) and the bridge. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    deleteQuietly();
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it deletes the same things again, harmlessly.
    }
  }

  private void deleteQuietly() {
    for (String ns : namespaces) {
      quietly("ip", "netns", "del", ns);
    }
    quietly("ip", "link", "del", bridge);
  }

  /**
   * Removes what runs of dead processes left: namespaces and bridges named with a pid that no
   * longer runs (a test JVM killed before its {@code close}). Processes still inside such a
   * namespace (its members, orphaned) are killed first.
   */
  public static void sweep() throws IOException {
    for (String line : run(true, "ip", "netns", "list").split("\n")) {
      String ns = line.split(" ")[0].strip();
      Matcher m = OWNED_NAMESPACE.matcher(ns);
      if (m.matches() && !alive(Long.parseLong(m.group(1)))) {
        for (String pid : run(true, "ip", "netns", "pids", ns).split("\\s+")) {
          if (!pid.isBlank()) {
            ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
        quietly("ip", "netns", "del", ns);
      }
    }
    for (String line : run(true, "ip", "-o", "link", "show", "type", "bridge").split("\n")) {
      String[] f = line.split(":\\s+");
      if (f.length < 2) {
        continue;
      }
      String name = f[1].strip();
      Matcher m = OWNED_BRIDGE.matcher(name);
      if (m.matches() && !alive(Long.parseLong(m.group(1), 36))) {
        quietly("ip", "link", "del", name);
      }
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** A third octet no interface here uses yet, starting from one derived from the pid. */
  private static int freeSubnet(int k) throws IOException {
    String used = run(false, "ip", "-o", "-4", "addr", "show");
    int start = (int) ((PID * 31 + k) % 250);
    for (int i = 0; i < 250; i++) {
      int n = 1 + (start + i) % 250;
      if (!used.contains(" " + PREFIX + n + ".")) {
        return n;
      }
    }
    throw new IOException("every subnet of " + PREFIX + "0.0/16 is in use");
  }

  private static void ip(String... args) throws IOException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "ip";
    System.arraycopy(args, 0, cmd, 1, args.length);
    run(false, cmd);
  }

  private static void quietly(String... cmd) {
    try {
      run(true, cmd);
    } catch (IOException e) {
      // Already gone, or never made: nothing to clean.
    }
  }

  /** Runs {@code cmd}; its output, or an exception with it when it fails and failure matters. */
  private static String run(boolean mayFail, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try {
      p.getOutputStream().close();
      // Read to the end first: a full pipe would stop the command before it exits.
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean done = p.waitFor(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      if (!done) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": no answer in " + COMMAND_TIMEOUT_MS + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": interrupted", e);
    }
    if (p.exitValue() != 0 && !mayFail) {
      throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip());
    }
    return out;
  }
}
