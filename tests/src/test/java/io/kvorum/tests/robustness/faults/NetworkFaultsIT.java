package io.kvorum.tests.robustness.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault harness on a real three-member cluster, each member in its own network namespace with
 * its failpoint control endpoint open: partitions by {@link Network}, peer delay, loss and
 * reordering by the transport's failpoints.
 */
class NetworkFaultsIT {
  static final int MEMBERS = 3;
  static final int CLIENT_PORT = 2379;
  static final int PEER_PORT = 2380;
  static final int FAILPOINT_PORT = 2381;
  /** Every wait below gives up after this. */
  static final long WAIT_MS = 30_000;
  static final long CALL_MS = 2_000;

  @TempDir Path dir;
  Network net;
  final List<MemberProcess> members = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    net = Network.create(MEMBERS);
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < MEMBERS; i++) {
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://").append(net.address(i)).append(':')
          .append(PEER_PORT);
    }
    for (int i = 0; i < MEMBERS; i++) {
      MemberProcess m = new MemberProcess(MemberProcess.kvorumLauncher(), "m" + i, dir, CLIENT_PORT, PEER_PORT,
          ic.toString(), List.of("--initial-cluster-token", "netns", "--heartbeat-interval", "50",
              "--election-timeout", "500"))
          .placed(net.commandPrefix(i), net.address(i))
          .environment("KVORUM_FAILPOINTS_HTTP", net.address(i) + ":" + FAILPOINT_PORT);
      members.add(m);
      channels.add(NettyChannelBuilder.forAddress(net.address(i), CLIENT_PORT).usePlaintext().build());
    }
    MemberProcess.startTogether(members);
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    try {
      for (MemberProcess m : members) {
        m.close();
      }
    } finally {
      if (net != null) {
        net.close();
      }
    }
  }

  @Test
  void ipNetnsExec_execsTheServer_soSignalsReachTheJvm() {
    for (MemberProcess m : members) {
      String command = m.process().info().command().orElse("");
      assertThat(command).as("the process handle's program").endsWith("java");
    }
  }

  @Test
  void isolate_leader_majorityElectsAndServes_oldLeaderCannotRead_healConverges() throws Exception {
    int old = leader(Set.of(0, 1, 2));
    net.isolate(old);
    long isolated = System.nanoTime();
    Set<Integer> majority = new HashSet<>(Set.of(0, 1, 2));
    majority.remove(old);
    int fresh = leader(majority);
    System.out.printf("isolated leader m%d; m%d leads the majority after %d ms%n", old, fresh,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - isolated));
    assertThat(fresh).isNotEqualTo(old);

    for (int i = 0; i < 20; i++) {
      put(fresh, "after-isolation-" + i, "v" + i);
    }
    // The old leader has lost its quorum: a linearizable read needs one, so it cannot answer.
    assertThatThrownBy(() -> kv(old).withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS)
        .range(RangeRequest.newBuilder().setKey(bytes("after-isolation-0")).build()))
        .isInstanceOf(StatusRuntimeException.class);
    // The test's own traffic is never cut: the isolated member still answers a local status.
    assertThat(status(old).getHeader().getMemberId()).isNotZero();

    net.heal();
    converged();
    assertThat(kv(old).withDeadlineAfter(CALL_MS * 5, TimeUnit.MILLISECONDS)
        .range(RangeRequest.newBuilder().setKey(bytes("after-isolation-19")).build()).getKvs(0).getValue())
        .isEqualTo(bytes("v19"));
  }

  @Test
  void dropOneWay_dropsOneDirectionOnly() throws Exception {
    net.dropOneWay(0, 1);
    // TCP needs both directions, so a connect fails both ways; which SYNs arrived shows the cut's
    // direction: m1's reach m0 (m0 holds a half-open connection from m1), m0's never reach m1.
    assertThat(connect(1, 0)).as("m1 connects to m0").isFalse();
    assertThat(connect(0, 1)).as("m0 connects to m1").isFalse();
    assertThat(halfOpenFrom(0, 1)).as("m0 got SYNs from m1: %s", sockets(0)).isTrue();
    assertThat(halfOpenFrom(1, 0)).as("m1 got SYNs from m0: %s", sockets(1)).isFalse();
    // The test's traffic and the rest of the cluster are untouched: it still commits writes.
    for (int i = 0; i < MEMBERS; i++) {
      assertThat(status(i).getHeader().getMemberId()).isNotZero();
    }
    // Over TCP the cut stops m0 and m1 talking either way, so when one of them leads the other hears
    // nothing and reports no leader (its pre-votes are refused by m2, which still hears the leader),
    // as etcd's would: a majority agrees on the leader, not necessarily all.
    put(majorityLeader(), "one-way", "v");

    net.heal();
    assertThat(net.cuts()).isEmpty();
    assertThat(connect(0, 1)).as("m0 connects to m1 once healed").isTrue();
    assertThat(connect(1, 0)).as("m1 connects to m0 once healed").isTrue();
    converged();
  }

  @Test
  void bridgeAndSplit_cutTheRightPairs() throws Exception {
    net.bridge(0, 1, 2);
    assertThat(net.cuts()).containsExactlyInAnyOrder(List.of(0, 2), List.of(2, 0));
    assertThat(connect(0, 2)).isFalse();
    assertThat(connect(0, 1)).isTrue();
    assertThat(connect(2, 1)).isTrue();
    // Through the hub the cluster keeps a quorum: writes through the hub commit. (The member cut
    // from the leader may stay without one: the hub still hears the leader and refuses its votes.)
    put(1, "bridged", "v");
    net.heal();
    net.split(Set.of(0), Set.of(1, 2));
    assertThat(net.cuts()).containsExactlyInAnyOrder(List.of(0, 1), List.of(1, 0), List.of(0, 2), List.of(2, 0));
    assertThat(connect(1, 2)).isTrue();
    net.heal();
    converged();
  }

  @Test
  void peerSendDelay_slowsWritesButTheySucceed_dropAndReorder_stillCommit() throws Exception {
    int leader = leader(Set.of(0, 1, 2));
    FailpointControl fp = new FailpointControl(net.address(leader) + ":" + FAILPOINT_PORT);
    long[] plain = timedPuts(leader, "plain", 10);
    fp.set("peerSendDelay", "sleep(100)");
    long[] delayed = timedPuts(leader, "delayed", 10);
    fp.clear("peerSendDelay");
    Arrays.sort(plain);
    Arrays.sort(delayed);
    System.out.printf("put latency on the leader, median: %d ms plain, %d ms with peerSendDelay=sleep(100)%n",
        plain[plain.length / 2], delayed[delayed.length / 2]);
    // A put commits only once a follower has its entry, which the delay holds back at least 100 ms.
    assertThat(delayed[0]).isGreaterThanOrEqualTo(100);

    // A lossy, reordering link from the leader: raft resends, the transport's framing holds.
    fp.set("peerSendDrop", "20%return");
    fp.set("peerSendReorder", "50%return");
    assertThat(fp.list()).contains("peerSendDrop=20%return", "peerSendReorder=50%return");
    for (int i = 0; i < 30; i++) {
      put(leader(Set.of(0, 1, 2)), "lossy-" + i, "v" + i);
    }
    fp.clear("peerSendDrop");
    fp.clear("peerSendReorder");
    converged();
  }

  // ------------------------------------------------------------ helpers

  private KVGrpc.KVBlockingStub kv(int i) {
    return KVGrpc.newBlockingStub(channels.get(i));
  }

  private StatusResponse status(int i) {
    return MaintenanceGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS)
        .status(StatusRequest.getDefaultInstance());
  }

  /** The member all of {@code among} agree leads, waiting for one; its index. */
  private int leader(Set<Integer> among) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        Set<Long> leaders = new HashSet<>();
        long[] ids = new long[MEMBERS];
        for (int i : among) {
          StatusResponse s = status(i);
          leaders.add(s.getLeader());
          ids[i] = s.getHeader().getMemberId();
        }
        last = "leaders seen " + leaders;
        if (leaders.size() == 1 && !leaders.contains(0L)) {
          long id = leaders.iterator().next();
          for (int i : among) {
            if (ids[i] == id) {
              return i;
            }
          }
        }
      } catch (StatusRuntimeException e) {
        last = e.toString();
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError("no leader agreed among " + among + " in " + WAIT_MS + " ms: " + last);
  }

  /** The member a majority reports as leader, waiting for one; its index. */
  private int majorityLeader() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    String last = "";
    while (System.nanoTime() < deadline) {
      long[] leaders = new long[MEMBERS];
      long[] ids = new long[MEMBERS];
      for (int i = 0; i < MEMBERS; i++) {
        try {
          StatusResponse s = status(i);
          leaders[i] = s.getLeader();
          ids[i] = s.getHeader().getMemberId();
        } catch (StatusRuntimeException e) {
          last = e.toString();
        }
      }
      last = "leaders seen " + Arrays.toString(leaders);
      for (int candidate = 0; candidate < MEMBERS; candidate++) {
        long id = ids[candidate];
        if (id != 0 && Arrays.stream(leaders).filter(l -> l == id).count() > MEMBERS / 2) {
          return candidate;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError("no leader agreed by a majority in " + WAIT_MS + " ms: " + last);
  }

  /** Puts until acknowledged, bounded in time; an unacknowledged attempt is simply tried again. */
  private void put(int member, String key, String value) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    StatusRuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        kv(member).withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS)
            .put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build());
        return;
      } catch (StatusRuntimeException e) {
        last = e;
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    throw new AssertionError("put " + key + " on m" + member + " not acknowledged in " + WAIT_MS + " ms", last);
  }

  private long[] timedPuts(int member, String prefix, int n) {
    long[] ms = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      kv(member).withDeadlineAfter(CALL_MS * 5, TimeUnit.MILLISECONDS)
          .put(PutRequest.newBuilder().setKey(bytes(prefix + i)).setValue(bytes("v")).build());
      ms[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
    return ms;
  }

  /** Waits until every member has the same revision and the same HashKV at it. */
  private void converged() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        Set<Long> revisions = new HashSet<>();
        for (int i = 0; i < MEMBERS; i++) {
          revisions.add(status(i).getHeader().getRevision());
        }
        if (revisions.size() == 1) {
          long rev = revisions.iterator().next();
          Set<Integer> hashes = new HashSet<>();
          for (int i = 0; i < MEMBERS; i++) {
            hashes.add(MaintenanceGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS)
                .hashKV(HashKVRequest.newBuilder().setRevision(rev).build()).getHash());
          }
          if (hashes.size() == 1) {
            return;
          }
          last = "revision " + rev + ", hashes " + hashes;
        } else {
          last = "revisions " + revisions;
        }
      } catch (StatusRuntimeException e) {
        last = e.toString();
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError("members did not converge in " + WAIT_MS + " ms: " + last);
  }

  /** Whether a TCP connection from member {@code from}'s namespace to {@code to}'s peer port opens. */
  private boolean connect(int from, int to) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(net.commandPrefix(from));
    cmd.addAll(List.of("timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/" + net.address(to) + "/" + PEER_PORT));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return p.exitValue() == 0;
  }

  /** Whether member {@code at}'s namespace holds a half-open (SYN received) connection from {@code from}. */
  private boolean halfOpenFrom(int at, int from) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(net.commandPrefix(at));
    cmd.addAll(List.of("ss", "-Htn", "state", "syn-recv"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    // The JVM's sockets are dual-stack: ss shows [::ffff:10.231.N.x]:port.
    return out.contains(net.address(from) + ":") || out.contains(net.address(from) + "]:");
  }

  /** Member {@code at}'s TCP sockets and counters, for a failure message. */
  private String sockets(int at) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(net.commandPrefix(at));
    cmd.addAll(List.of("sh", "-c", "ss -tan; nstat -az | grep -E 'ListenDrop|ReqQFull|SyncookiesSent|TcpInSegs'"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
