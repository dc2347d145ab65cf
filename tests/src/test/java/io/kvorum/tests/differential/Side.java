package io.kvorum.tests.differential;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberListResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/** One side of the comparison: a real etcd or Kvorum, as processes, in one {@link Topology}. */
final class Side implements AutoCloseable {
  enum Kind {
    ETCD, KVORUM
  }

  /** The etcd release the suite compares with; another one fails the suite instead of misleading it. */
  static final String ETCD_VERSION = "3.4.23";
  /** How long a fresh side may take to elect a leader and publish every member. */
  static final long READY_TIMEOUT_MS = 60_000;

  final Kind kind;
  final Topology topology;
  final List<MemberProcess> members;
  final List<ManagedChannel> channels = new ArrayList<>();
  /** Member ids as this side computed them, by member name ({@code m0}, {@code m1}, ...). */
  final Map<Long, String> memberNames = new HashMap<>();
  /** This side's client and peer ports, by symbolic name ({@code m0.client}, {@code m0.peer}). */
  final Map<Integer, String> portNames = new HashMap<>();
  private final Path dir;

  private Side(Kind kind, Topology topology, Path dir, List<MemberProcess> members) {
    this.kind = kind;
    this.topology = topology;
    this.dir = dir;
    this.members = new ArrayList<>(members);
  }

  static String etcdBinary() {
    return System.getProperty("etcd.binary", "/usr/bin/etcd");
  }

  /** Fails unless the etcd binary is the release this suite compares with. */
  static void checkEtcd() throws IOException, InterruptedException {
    Path bin = Path.of(etcdBinary());
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException("no etcd at " + bin + ": install etcd " + ETCD_VERSION
          + " (.ci/install-etcd, or apt-get install etcd-server etcd-client) or pass -Detcd.binary=PATH");
    }
    Process p = new ProcessBuilder(bin.toString(), "--version").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    if (!out.contains("etcd Version: " + ETCD_VERSION)) {
      throw new IllegalStateException(bin + " is not etcd " + ETCD_VERSION + ": " + out);
    }
  }

  /** A scratch directory on tmpfs where there is one (fsyncs cost nothing there, on both sides alike). */
  private static Path scratch(String prefix) throws IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, prefix);
    }
    return Files.createTempDirectory(prefix);
  }

  static Side start(Kind kind, Topology topology) throws Exception {
    Path dir = scratch("kvorum-diff-" + kind.name().toLowerCase() + "-");
    int n = topology.members;
    int[][] ports = new int[n][];
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < n; i++) {
      ports[i] = new int[] {MemberProcess.freePort(), MemberProcess.freePort()};
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(ports[i][1]);
    }
    String binary = kind == Kind.ETCD ? etcdBinary() : MemberProcess.kvorumLauncher();
    List<String> flags = new ArrayList<>(List.of("--initial-cluster-token", "differential"));
    flags.addAll(topology.flags);
    List<MemberProcess> ms = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ms.add(new MemberProcess(binary, "m" + i, dir, ports[i][0], ports[i][1], ic.toString(), flags));
    }
    Side side = new Side(kind, topology, dir, ms);
    try {
      side.startAll();
      return side;
    } catch (Exception e) {
      side.close();
      throw e;
    }
  }

  private void startAll() throws Exception {
    MemberProcess.startTogether(members);
    for (MemberProcess m : members) {
      channels.add(NettyChannelBuilder.forAddress("127.0.0.1", m.clientPort).usePlaintext()
          .maxInboundMessageSize(64 << 20).build());
      portNames.put(m.clientPort, m.name + ".client");
      portNames.put(m.peerPort, m.name + ".peer");
    }
    awaitReady();
  }

  /** Waits until every member answers, knows the leader and lists every member by name. */
  private void awaitReady() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        boolean ready = true;
        for (ManagedChannel ch : channels) {
          StatusResponse st = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance());
          MemberListResponse list = ClusterGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
              .memberList(MemberListRequest.getDefaultInstance());
          ready &= st.getLeader() != 0 && list.getMembersCount() == members.size()
              && list.getMembersList().stream().allMatch(m -> !m.getName().isEmpty() && m.getClientURLsCount() > 0);
          if (ready && memberNames.isEmpty()) {
            for (Member m : list.getMembersList()) {
              memberNames.put(m.getID(), m.getName());
            }
          }
        }
        if (ready) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new IllegalStateException(kind + " " + topology + " not ready in " + READY_TIMEOUT_MS + " ms", last);
  }

  /**
   * A member that will join this cluster ({@code --initial-cluster-state existing}) at free ports;
   * not started. Its ports get names now, so transcripts name them alike on both sides.
   */
  MemberProcess joiner(String name) throws IOException {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    StringBuilder ic = new StringBuilder();
    for (MemberProcess m : members) {
      ic.append(m.name).append('=').append(m.peerUrl()).append(',');
    }
    ic.append(name).append("=http://127.0.0.1:").append(peer);
    List<String> flags = new ArrayList<>(List.of("--initial-cluster-token", "differential",
        "--initial-cluster-state", "existing"));
    flags.addAll(topology.flags);
    String binary = kind == Kind.ETCD ? etcdBinary() : MemberProcess.kvorumLauncher();
    portNames.put(client, name + ".client");
    portNames.put(peer, name + ".peer");
    return new MemberProcess(binary, name, dir, client, peer, ic.toString(), flags);
  }

  /** Starts a joiner (after the cluster added it); it is member {@code members.size() - 1} until it leaves. */
  void join(MemberProcess m) throws IOException {
    members.add(m);
    channels.add(NettyChannelBuilder.forAddress("127.0.0.1", m.clientPort).usePlaintext()
        .maxInboundMessageSize(64 << 20).build());
    m.start();
  }

  /** Stops a joiner (after the cluster removed it). */
  void leave(MemberProcess m) throws InterruptedException {
    int i = members.indexOf(m);
    members.remove(i);
    channels.remove(i).shutdownNow();
    m.close();
  }

  /** How long a call that no transcript records may take (set-up, waits, alignment). */
  static final long UNRECORDED_DEADLINE_MS = 30_000;

  /** A call to member {@code member} that no transcript records. */
  <Q, R> R unrecorded(int member, MethodDescriptor<Q, R> method, Q request) {
    return ClientCalls.blockingUnaryCall(channel(member), method,
        CallOptions.DEFAULT.withDeadlineAfter(UNRECORDED_DEADLINE_MS, TimeUnit.MILLISECONDS), request);
  }

  ManagedChannel channel(int member) {
    return channels.get(member);
  }

  /** The index of the member that leads now (asked of every member until one knows). */
  int leaderIndex() {
    for (int i = 0; i < channels.size(); i++) {
      long leader = unrecorded(i, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance()).getLeader();
      String name = memberNames.get(leader);
      if (name != null) {
        return Integer.parseInt(name.substring(1));
      }
    }
    throw new IllegalStateException(kind + ": no member knows a leader");
  }

  long memberId(int member) {
    String name = "m" + member;
    return memberNames.entrySet().stream().filter(e -> e.getValue().equals(name)).findFirst().orElseThrow().getKey();
  }

  /** The tail of every member's output, for a failure message. */
  String logTails() {
    StringBuilder sb = new StringBuilder();
    for (MemberProcess m : members) {
      try {
        List<String> lines = Files.readAllLines(m.logFile(), StandardCharsets.UTF_8);
        sb.append("--- ").append(kind).append(' ').append(m.name).append(" (last 20 lines)\n");
        lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(l -> sb.append(l).append('\n'));
      } catch (IOException e) {
        sb.append("--- ").append(m.name).append(": ").append(e).append('\n');
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    for (MemberProcess m : members) {
      try {
        m.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A scratch directory left behind is harmless; the next run makes a new one.
    }
  }

  @Override
  public String toString() {
    return kind + "/" + topology;
  }
}
