package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Real member processes ({@code bin/kvorum}) with failpoints: each member serves the failpoint
 * control endpoint ({@code KVORUM_FAILPOINTS_HTTP}) on a loopback port of its own, so a test sets
 * a crash point on whichever member turned out to be the leader. Loads are bounded in keys and in
 * time; every wait has a deadline.
 */
final class FailpointCluster {
  static final String FAILPOINTS = "KVORUM_FAILPOINTS";
  static final String FAILPOINTS_HTTP = "KVORUM_FAILPOINTS_HTTP";
  /** Puts per load, and the writers sharing them. */
  static final int KEYS = 200;
  static final int WRITERS = 4;
  /** A panicking member must be gone within this time of the trigger. */
  static final long PANIC_WAIT_MS = 60_000;
  /** Attempts of a read while members elect or catch up (100 ms apart). */
  static final int RETRIES_MAX = 300;

  final Path dir;
  final List<MemberProcess> members = new ArrayList<>();
  final Map<MemberProcess, Integer> controlPorts = new HashMap<>();
  private final Map<MemberProcess, ManagedChannel> channels = new HashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<MemberProcess, Long> ids = new HashMap<>();
  private String initialCluster;

  FailpointCluster(Path dir) {
    this.dir = dir;
  }

  static List<String> flags(String... more) {
    List<String> f = new ArrayList<>(List.of("--initial-cluster-token", "fp", "--heartbeat-interval", "50",
        "--election-timeout", "500"));
    f.addAll(List.of(more));
    return f;
  }

  /** Starts {@code n} members together, each with a failpoint control endpoint and no failpoint set. */
  List<MemberProcess> start(int n, List<String> flags) throws Exception {
    return start(n, flags, null);
  }

  /**
   * Starts {@code n} members together, each with a failpoint control endpoint and
   * {@code KVORUM_FAILPOINTS=failpoints} (none if null).
   */
  List<MemberProcess> start(int n, List<String> flags, String failpoints) throws Exception {
    List<int[]> ports = new ArrayList<>();
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int[] p = {MemberProcess.freePort(), MemberProcess.freePort(), MemberProcess.freePort()};
      ports.add(p);
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(p[1]);
    }
    initialCluster = ic.toString();
    List<MemberProcess> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MemberProcess m = new MemberProcess(MemberProcess.kvorumLauncher(), "m" + i, dir, ports.get(i)[0],
          ports.get(i)[1], initialCluster, flags);
      m.environment(FAILPOINTS_HTTP, "127.0.0.1:" + ports.get(i)[2]).environment(FAILPOINTS, failpoints);
      controlPorts.put(m, ports.get(i)[2]);
      out.add(m);
    }
    members.addAll(out);
    MemberProcess.startTogether(out);
    return out;
  }

  /**
   * Adds a member through the cluster API and returns its process, not started: it joins with
   * {@code --initial-cluster-state existing}, so the leader sends it a snapshot.
   */
  MemberProcess addMember(List<String> flags) throws Exception {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    String name = "m" + members.size();
    String url = "http://127.0.0.1:" + peer;
    memberAdd(members.get(0), io.kvorum.proto.etcdserverpb.MemberAddRequest.newBuilder().addPeerURLs(url).build());
    initialCluster = initialCluster + "," + name + "=" + url;
    List<String> f = new ArrayList<>(flags);
    f.addAll(List.of("--initial-cluster-state", "existing"));
    MemberProcess m = new MemberProcess(MemberProcess.kvorumLauncher(), name, dir, client, peer, initialCluster, f);
    members.add(m);
    return m;
  }

  /**
   * Asks {@code via} to add a member, again while it answers "unhealthy cluster" (etcd's strict
   * reconfiguration check refuses until every member was connected for a while after the start).
   */
  void memberAdd(MemberProcess via, io.kvorum.proto.etcdserverpb.MemberAddRequest req) {
    for (int attempt = 0; ; attempt++) {
      try {
        ClusterGrpc.newBlockingStub(channel(via)).withDeadlineAfter(10, TimeUnit.SECONDS).memberAdd(req);
        return;
      } catch (StatusRuntimeException e) {
        if (attempt >= RETRIES_MAX || !String.valueOf(e.getStatus().getDescription()).contains("unhealthy cluster")) {
          throw e;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }

  /** One channel per member, shared by every call (it reconnects to a restarted member). */
  ManagedChannel channel(MemberProcess m) {
    synchronized (channels) {
      return channels.computeIfAbsent(m, x -> NettyChannelBuilder.forAddress("127.0.0.1", x.clientPort)
          .usePlaintext().build());
    }
  }

  KVGrpc.KVBlockingStub kv(MemberProcess m) {
    return KVGrpc.newBlockingStub(channel(m));
  }

  MaintenanceGrpc.MaintenanceBlockingStub maintenance(MemberProcess m) {
    return MaintenanceGrpc.newBlockingStub(channel(m));
  }

  private long id(MemberProcess m) {
    return ids.computeIfAbsent(m, x -> retry(() -> maintenance(x).withDeadlineAfter(5, TimeUnit.SECONDS)
        .status(StatusRequest.getDefaultInstance()).getHeader().getMemberId()));
  }

  /** The member the others agree leads (asked until one is elected). */
  MemberProcess leader() {
    for (int attempt = 0; attempt < RETRIES_MAX; attempt++) {
      long lead = retry(() -> maintenance(members.get(0)).withDeadlineAfter(5, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance()).getLeader());
      for (MemberProcess m : members) {
        if (lead != 0 && id(m) == lead) {
          return m;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError("no leader");
  }

  /** Some member other than {@code not}. */
  MemberProcess other(MemberProcess not) {
    return members.stream().filter(m -> m != not).findFirst().orElseThrow();
  }

  /** Sets failpoint {@code name} to {@code term} on a running member, through its control endpoint. */
  void set(MemberProcess m, String name, String term) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + controlPorts.get(m) + "/" + name))
        .timeout(Duration.ofSeconds(5)).PUT(HttpRequest.BodyPublishers.ofString(term)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("PUT /%s %s: %s", name, term, r.body()).isEqualTo(204);
  }

  /** Puts {@code KEYS} keys named {@code prefix-i} from {@code WRITERS} writers; what was acknowledged. */
  Set<String> load(String prefix) throws Exception {
    Set<String> acked = ConcurrentHashMap.newKeySet();
    List<MemberProcess> targets = List.copyOf(members);
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        fs.add(pool.submit(() -> {
          List<KVGrpc.KVBlockingStub> stubs = new ArrayList<>();
          targets.forEach(m -> stubs.add(kv(m)));
          for (int i = writer; i < KEYS; i += WRITERS) {
            String k = prefix + "-" + i;
            for (int attempt = 0; attempt < 3; attempt++) {
              try {
                stubs.get((i + attempt) % stubs.size()).withDeadlineAfter(3, TimeUnit.SECONDS)
                    .put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k))
                        .setValue(ByteString.copyFromUtf8("v" + i)).build());
                acked.add(k);
                break;
              } catch (StatusRuntimeException e) {
                // Not acknowledged (member down, no leader, timeout): the client may retry.
              }
            }
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get(3, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    return acked;
  }

  /** Waits for {@code m} to exit by failpoint {@code name}'s panic: status 2 and its line on stderr. */
  void awaitPanic(MemberProcess m, String name) throws Exception {
    Process p = m.process();
    assertThat(p.waitFor(PANIC_WAIT_MS, TimeUnit.MILLISECONDS)).as("%s exited by %s", m.name, name).isTrue();
    assertThat(p.exitValue()).as("%s exit status", m.name).isEqualTo(2);
    assertThat(Files.readString(m.logFile(), StandardCharsets.UTF_8)).contains("failpoint " + name + ": panic");
  }

  /**
   * The checks after a crash point: every acknowledged key readable by a linearizable range on
   * every member, every member at the same revision with the same HashKV there, and each
   * restarted member taking a write.
   */
  void verify(Set<String> acked, String prefix, MemberProcess restarted) {
    for (MemberProcess m : members) {
      assertThat(keys(m, prefix)).as("%s holds every acknowledged write", m.name).containsAll(acked);
    }
    String marker = "after-restart";
    retry(() -> kv(restarted).withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8(marker)).setValue(ByteString.copyFromUtf8(restarted.name)).build()));
    long rev = retry(() -> kv(restarted).withDeadlineAfter(5, TimeUnit.SECONDS)
        .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(marker)).build()).getHeader().getRevision());
    Set<Integer> hashes = new HashSet<>();
    for (MemberProcess m : members) {
      // A member's serializable revision reaches rev once it applied everything up to the marker.
      for (int attempt = 0; ; attempt++) {
        long at = retry(() -> kv(m).withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8(marker)).setSerializable(true).build()).getHeader().getRevision());
        if (at >= rev) {
          assertThat(at).as("%s revision", m.name).isEqualTo(rev);
          break;
        }
        assertThat(attempt).as("%s reaches revision %d (at %d)", m.name, rev, at).isLessThan(RETRIES_MAX);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
      hashes.add(retry(() -> maintenance(m).withDeadlineAfter(10, TimeUnit.SECONDS)
          .hashKV(HashKVRequest.newBuilder().setRevision(rev).build()).getHash()));
    }
    assertThat(hashes).as("HashKV at %d of every member", rev).hasSize(1);
  }

  /** A linearizable read of every key under {@code prefix-}. */
  Set<String> keys(MemberProcess m, String prefix) {
    RangeResponse r = retry(() -> kv(m).withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8(prefix + "-")).setRangeEnd(ByteString.copyFromUtf8(prefix + ".")).build()));
    Set<String> keys = new HashSet<>();
    r.getKvsList().forEach(kv -> keys.add(kv.getKey().toStringUtf8()));
    return keys;
  }

  /** Retries a call while the member elects, restarts or catches up, bounded. */
  static <T> T retry(java.util.function.Supplier<T> call) {
    StatusRuntimeException last = null;
    for (int attempt = 0; attempt < RETRIES_MAX; attempt++) {
      try {
        return call.get();
      } catch (StatusRuntimeException e) {
        last = e;
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    throw last;
  }

  /** Closes the channels and kills every member still running. */
  void close() throws InterruptedException {
    synchronized (channels) {
      channels.values().forEach(ManagedChannel::shutdownNow);
    }
    for (MemberProcess m : members) {
      m.close();
    }
  }
}
