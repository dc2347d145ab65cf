package io.kvorum.tests.robustness;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberRemoveRequest;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.tests.MemberProcess;
import io.kvorum.tests.robustness.faults.FailpointControl;
import io.kvorum.tests.robustness.faults.Network;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A cluster of real member processes ({@code bin/kvorum}) on loopback, with what the robustness
 * faults do to it: kill, stop and continue, restart, membership changes and leader moves. Members
 * are reached by name; a replaced member gets a new name and data dir, as an operator's would.
 */
final class ProcessCluster implements AutoCloseable {
  /** How long a member may take to answer an admin call before it counts as unreachable. */
  static final long CALL_TIMEOUT_MS = 3_000;
  /** How long {@link #memberId} keeps asking a member that does not answer. */
  static final long MEMBER_ID_WAIT_MS = 15_000;
  /** Attempts of an admin call that a leader change may refuse, 100 ms apart. */
  static final int ADMIN_ATTEMPTS_MAX = 100;

  /** A member's ports inside its own network namespace, where every member has its own address. */
  static final int NAMESPACE_CLIENT_PORT = 2379;
  static final int NAMESPACE_PEER_PORT = 2380;
  static final int NAMESPACE_FAILPOINT_PORT = 2381;

  /**
   * Where the members run: on loopback, or each in its own network namespace; with a failpoint
   * control endpoint or none; with {@code atStart} as their {@code KVORUM_FAILPOINTS} (empty: none).
   */
  record Placement(boolean namespaces, boolean failpoints, String atStart) {}

  private final Path dir;
  private final List<String> flags;
  private final Placement placement;
  private final Network network;
  private final List<MemberProcess> members = new CopyOnWriteArrayList<>();
  private final Map<String, ManagedChannel> channels = new HashMap<>();
  private final Map<String, FailpointControl> failpoints = new HashMap<>();
  private int joined;

  private ProcessCluster(Path dir, List<String> flags, Placement placement, Network network) {
    this.dir = dir;
    this.flags = List.copyOf(flags);
    this.placement = placement;
    this.network = network;
  }

  /** Starts {@code n} members together and waits until each is ready. */
  static ProcessCluster start(Path dir, int n, List<String> flags, Placement placement)
      throws IOException, InterruptedException {
    ProcessCluster c = new ProcessCluster(dir, flags, placement, placement.namespaces() ? Network.create(n) : null);
    List<int[]> ports = new ArrayList<>();
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int[] p = placement.namespaces()
          ? new int[] {NAMESPACE_CLIENT_PORT, NAMESPACE_PEER_PORT, NAMESPACE_FAILPOINT_PORT}
          : new int[] {MemberProcess.freePort(), MemberProcess.freePort(), MemberProcess.freePort()};
      ports.add(p);
      String host = placement.namespaces() ? c.network.address(i) : "127.0.0.1";
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://").append(host).append(':').append(p[1]);
    }
    List<MemberProcess> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MemberProcess m = new MemberProcess(MemberProcess.kvorumLauncher(), "m" + i, dir, ports.get(i)[0], ports.get(i)[1],
          ic.toString(), c.memberFlags("new"));
      if (placement.namespaces()) {
        m.placed(c.network.commandPrefix(i), c.network.address(i));
      }
      if (placement.failpoints()) {
        String control = m.host() + ":" + ports.get(i)[2];
        m.environment("KVORUM_FAILPOINTS_HTTP", control);
        c.failpoints.put(m.name, new FailpointControl(control));
      }
      if (!placement.atStart().isEmpty()) {
        m.environment("KVORUM_FAILPOINTS", placement.atStart());
      }
      out.add(m);
    }
    c.members.addAll(out);
    try {
      MemberProcess.startTogether(out);
    } catch (IOException | InterruptedException e) {
      c.close();
      throw e;
    }
    return c;
  }

  private List<String> memberFlags(String state) {
    List<String> f = new ArrayList<>(List.of("--initial-cluster-token", "robustness", "--initial-cluster-state", state,
        "--heartbeat-interval", "50", "--election-timeout", "500"));
    f.addAll(flags);
    return f;
  }

  List<MemberProcess> members() {
    return List.copyOf(members);
  }

  MemberProcess member(String name) {
    return members.stream().filter(m -> m.name.equals(name)).findFirst().orElseThrow();
  }

  synchronized ManagedChannel channel(MemberProcess m) {
    return channels.computeIfAbsent(m.name + ":" + m.clientPort,
        k -> NettyChannelBuilder.forAddress(m.host(), m.clientPort).usePlaintext().build());
  }

  /** The namespaces the members run in; only for a cluster placed in them. */
  Network network() {
    if (network == null) {
      throw new IllegalStateException("the members are not in network namespaces");
    }
    return network;
  }

  /** A member's index in the cluster as started (its namespace's), from its name {@code m<i>}. */
  static int index(MemberProcess m) {
    return Integer.parseInt(m.name.substring(1));
  }

  /** The failpoint control endpoint of a member started with failpoints. */
  FailpointControl failpoints(MemberProcess m) {
    FailpointControl f = failpoints.get(m.name);
    if (f == null) {
      throw new IllegalStateException(m.name + " has no failpoints");
    }
    return f;
  }

  /** The member's own status, or empty when it does not answer. */
  Optional<StatusResponse> status(MemberProcess m) {
    try {
      return Optional.of(MaintenanceGrpc.newBlockingStub(channel(m))
          .withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).status(StatusRequest.getDefaultInstance()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  /** The member that leads, as a majority of running members that answer report it; empty when none is agreed. */
  Optional<MemberProcess> leader() {
    Map<Long, Integer> votes = new HashMap<>();
    Map<Long, MemberProcess> byId = new HashMap<>();
    for (MemberProcess m : members) {
      if (!m.alive()) {
        continue;
      }
      Optional<StatusResponse> s = status(m);
      if (s.isPresent()) {
        byId.put(s.get().getHeader().getMemberId(), m);
        if (s.get().getLeader() != 0) {
          votes.merge(s.get().getLeader(), 1, Integer::sum);
        }
      }
    }
    return votes.entrySet().stream().filter(e -> e.getValue() > members.size() / 2)
        .map(e -> byId.get(e.getKey())).filter(m -> m != null).findFirst();
  }

  /** Waits for an agreed leader, bounded. */
  MemberProcess awaitLeader(long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      Optional<MemberProcess> l = leader();
      if (l.isPresent()) {
        return l.get();
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new IllegalStateException("no leader within " + timeoutMs + " ms");
  }

  /**
   * The member's id, asked until it answers (bounded): a member just restarted under the workload
   * can miss one status call's deadline while it warms up.
   */
  long memberId(MemberProcess m) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MEMBER_ID_WAIT_MS);
    do {
      Optional<StatusResponse> s = status(m);
      if (s.isPresent()) {
        return s.get().getHeader().getMemberId();
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    } while (System.nanoTime() < deadline);
    throw new IllegalStateException(m.name + " does not answer in " + MEMBER_ID_WAIT_MS + " ms");
  }

  /** Asks the leader to hand leadership to {@code to}; retried while leadership moves. */
  void moveLeader(MemberProcess to) {
    long target = memberId(to);
    admin(() -> MaintenanceGrpc.newBlockingStub(channel(awaitLeader(10_000)))
        .withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(target).build()));
  }

  /**
   * Removes {@code old} (stopping it) and adds a new member in its place with fresh data, started
   * as a learner and promoted once it has caught up, as etcd's runbook replaces a member.
   */
  MemberProcess replace(MemberProcess old) throws IOException, InterruptedException {
    if (placement.namespaces() || placement.failpoints() || !placement.atStart().isEmpty()) {
      throw new IllegalStateException("a replaced member would have no namespace and no failpoints");
    }
    long id = memberId(old);
    MemberProcess any = members.stream().filter(m -> m != old && m.alive()).findFirst().orElseThrow();
    admin(() -> ClusterGrpc.newBlockingStub(channel(any)).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .memberRemove(MemberRemoveRequest.newBuilder().setID(id).build()));
    old.close();
    members.remove(old);
    return addLearnerAndPromote();
  }

  /** Adds a learner, starts it, and promotes it once the leader lets it (caught up). */
  MemberProcess addLearnerAndPromote() throws IOException, InterruptedException {
    String name = "j" + (joined++);
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    String peerUrl = "http://127.0.0.1:" + peer;
    MemberProcess any = members.stream().filter(MemberProcess::alive).findFirst().orElseThrow();
    long id = admin(() -> ClusterGrpc.newBlockingStub(channel(any)).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .memberAdd(MemberAddRequest.newBuilder().addPeerURLs(peerUrl).setIsLearner(true).build())).getMember().getID();
    StringBuilder ic = new StringBuilder();
    for (Member m : ClusterGrpc.newBlockingStub(channel(any)).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .memberList(MemberListRequest.getDefaultInstance()).getMembersList()) {
      String n = m.getID() == id ? name : m.getName();
      ic.append(ic.length() == 0 ? "" : ",").append(n).append('=').append(m.getPeerURLs(0));
    }
    MemberProcess joiner = new MemberProcess(MemberProcess.kvorumLauncher(), name, dir, client, peer, ic.toString(),
        memberFlags("existing"));
    members.add(joiner);
    joiner.start();
    admin(() -> ClusterGrpc.newBlockingStub(channel(awaitLeader(10_000))).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .memberPromote(MemberPromoteRequest.newBuilder().setID(id).build()));
    return joiner;
  }

  /** Restarts every member: all killed at once, then started together on their data. */
  void restartAll() throws IOException, InterruptedException {
    for (MemberProcess m : members) {
      m.kill();
    }
    MemberProcess.startTogether(members());
  }

  /**
   * Waits until every member reports the same revision, then returns each one's HashKV at it;
   * throws when they do not agree in time.
   */
  Map<String, Long> awaitAgreement(long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    String last = "";
    while (System.nanoTime() < deadline) {
      Map<String, Long> revisions = new HashMap<>();
      for (MemberProcess m : members) {
        status(m).ifPresent(s -> revisions.put(m.name, s.getHeader().getRevision()));
      }
      last = revisions.toString();
      if (revisions.size() == members.size() && revisions.values().stream().distinct().count() == 1) {
        long rev = revisions.values().iterator().next();
        Map<String, Long> hashes = new HashMap<>();
        try {
          for (MemberProcess m : members) {
            hashes.put(m.name, (long) MaintenanceGrpc.newBlockingStub(channel(m))
                .withDeadlineAfter(CALL_TIMEOUT_MS * 3, TimeUnit.MILLISECONDS)
                .hashKV(HashKVRequest.newBuilder().setRevision(rev).build()).getHash());
          }
          return hashes;
        } catch (StatusRuntimeException e) {
          last = revisions + " then HashKV failed: " + e.getStatus();
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
    throw new IllegalStateException("members did not reach one revision in " + timeoutMs + " ms: " + last);
  }

  private interface Call<T> {
    T run();
  }

  /** An admin call retried while it meets a leader change or an unready member, bounded. */
  private static <T> T admin(Call<T> call) {
    StatusRuntimeException last = null;
    for (int i = 0; i < ADMIN_ATTEMPTS_MAX; i++) {
      try {
        return call.run();
      } catch (StatusRuntimeException e) {
        last = e;
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      } catch (IllegalStateException e) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    throw last != null ? last : new IllegalStateException("admin call failed " + ADMIN_ATTEMPTS_MAX + " times");
  }

  @Override
  public synchronized void close() {
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
    channels.clear();
    try {
      for (MemberProcess m : members) {
        m.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (network != null) {
      network.close();
    }
  }
}
