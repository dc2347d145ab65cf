package io.kvorum.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleListRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserListRequest;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseStatus;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.mvccpb.KeyValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data moves between the real etcd 3.4.23 and Kvorum through etcd's snapshot format, both ways,
 * with the real {@code etcdctl}: etcd → {@code snapshot save} → {@code snapshot restore} → Kvorum
 * (which migrates the restored data dir when it starts) → {@code snapshot save} → {@code snapshot
 * restore} → etcd; and the same first file through {@code kvorum migrate --snapshot}. At each step
 * the member holds the same keys at every kept revision, the same compaction point, the same leases
 * (granted TTL and attached keys), the same users and roles, and answers the same {@code HashKV}.
 */
class SnapshotRoundTripIT {
  private static final long CALL_SECONDS = 20;
  private static final long READY_MS = 30_000;
  private static final String TOKEN = "round-trip";
  private static final int KEYS = 200;

  @TempDir Path dir;
  private final List<MemberProcess> processes = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    for (MemberProcess p : processes) {
      p.close();
    }
  }

  /** What a member holds, as clients see it. */
  record State(long revision, long compactRevision, int hashKv, List<String> keys, List<String> history,
      List<String> leases, List<String> users, List<String> roles) {}

  @Test
  void etcdToKvorumAndBack_keepsKeysRevisionsLeasesUsersAndHashKv() throws Exception {
    MemberProcess etcd = start(etcdBinary(), "e1");
    ManagedChannel ec = channel(etcd);
    fill(ec);
    State original = state(ec);
    assertThat(original.leases()).hasSize(2);
    assertThat(original.users()).hasSize(2);
    Path s1 = dir.resolve("s1.db");
    etcdctl(etcd, "snapshot", "save", s1.toString());

    // etcd's file, restored by etcdctl, started on by Kvorum.
    MemberProcess k1 = restoredMember(MemberProcess.kvorumLauncher(), "k1", s1);
    ManagedChannel kc = channel(k1);
    assertThat(state(kc)).isEqualTo(original);

    // etcd's file through kvorum migrate.
    int[] ports = {MemberProcess.freePort(), MemberProcess.freePort()};
    Path migrated = dir.resolve("k2.etcd");
    run(List.of(MemberProcess.kvorumLauncher(), "migrate", "--snapshot", s1.toString(), "--name", "k2",
        "--initial-cluster", "k2=http://127.0.0.1:" + ports[1], "--initial-cluster-token", TOKEN,
        "--output", migrated.toString()));
    MemberProcess k2 = new MemberProcess(MemberProcess.kvorumLauncher(), "k2", dir, ports[0], ports[1],
        "k2=http://127.0.0.1:" + ports[1], List.of("--initial-cluster-token", TOKEN));
    processes.add(k2);
    k2.start();
    assertThat(state(channel(k2))).isEqualTo(original);

    // Kvorum's file, restored by etcdctl, started on by etcd.
    Path s2 = dir.resolve("s2.db");
    etcdctl(k1, "snapshot", "save", s2.toString());
    String status = etcdctl(null, "--write-out", "json", "snapshot", "status", s2.toString());
    assertThat(status).contains("\"revision\":" + original.revision());
    MemberProcess e2 = restoredMember(etcdBinary(), "e2", s2);
    assertThat(state(channel(e2))).isEqualTo(original);
  }

  @Test
  void etcdClusterInPlace_startsAsKvorumWithItsIdsDataAndLog() throws Exception {
    int n = 3;
    int[][] ports = new int[n][];
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < n; i++) {
      ports[i] = new int[] {MemberProcess.freePort(), MemberProcess.freePort()};
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(ports[i][1]);
    }
    List<MemberProcess> etcds = new ArrayList<>();
    List<MemberProcess> kvorums = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      etcds.add(new MemberProcess(etcdBinary(), "m" + i, dir, ports[i][0], ports[i][1], ic.toString(),
          List.of("--initial-cluster-token", TOKEN)));
      kvorums.add(new MemberProcess(MemberProcess.kvorumLauncher(), "m" + i, dir, ports[i][0], ports[i][1],
          ic.toString(), List.of("--initial-cluster-token", TOKEN)));
    }
    processes.addAll(etcds);
    MemberProcess.startTogether(etcds);
    ManagedChannel e0 = channel(etcds.get(0));
    fill(e0);
    List<Long> ids = memberIds(e0);
    // A follower is killed right after a last write, so its backend may lag its WAL and the
    // migration must carry the entries after the backend's consistent index; the others stop cleanly.
    long leader = MaintenanceGrpc.newBlockingStub(e0).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .status(StatusRequest.getDefaultInstance()).getLeader();
    String follower = io.kvorum.proto.etcdserverpb.ClusterGrpc.newBlockingStub(e0)
        .withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .memberList(io.kvorum.proto.etcdserverpb.MemberListRequest.getDefaultInstance()).getMembersList().stream()
        .filter(m -> m.getID() != leader).map(io.kvorum.proto.etcdserverpb.Member::getName).sorted().toList().get(0);
    KVGrpc.newBlockingStub(e0).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .put(PutRequest.newBuilder().setKey(b("last")).setValue(b("write")).build());
    MemberProcess killed = etcds.stream().filter(m -> m.name.equals(follower)).findFirst().orElseThrow();
    killed.kill();
    ManagedChannel live = channel(etcds.stream().filter(m -> m != killed).findFirst().orElseThrow());
    State original = state(live);
    for (MemberProcess m : etcds) {
      m.stop();
    }
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    channels.clear();

    processes.addAll(kvorums);
    MemberProcess.startTogether(kvorums);
    for (MemberProcess k : kvorums) {
      String log = Files.readString(k.logFile(), StandardCharsets.UTF_8);
      assertThat(log).as(k.name + " migrated").contains("migrated etcd member");
      log.lines().filter(l -> l.contains("migrated etcd member")).forEach(l -> System.out.println(k.name + ": " + l));
      ManagedChannel kc = channel(k);
      awaitRevision(kc, original.revision());
      assertThat(state(kc)).as(k.name).isEqualTo(original);
      assertThat(memberIds(kc)).isEqualTo(ids);
    }
    KVGrpc.newBlockingStub(channel(kvorums.get(2))).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .put(PutRequest.newBuilder().setKey(b("after")).setValue(b("migration")).build());
    for (int i = 0; i < n; i++) {
      assertThat(Files.isDirectory(dir.resolve("m" + i + ".etcd").resolve("member.etcd"))).isTrue();
    }
  }

  private static List<Long> memberIds(ManagedChannel ch) {
    return io.kvorum.proto.etcdserverpb.ClusterGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .memberList(io.kvorum.proto.etcdserverpb.MemberListRequest.getDefaultInstance()).getMembersList().stream()
        .map(io.kvorum.proto.etcdserverpb.Member::getID).sorted().toList();
  }

  /** Waits until the member has applied up to {@code revision} (a member catching up after its start). */
  private static void awaitRevision(ManagedChannel ch, long revision) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_MS);
    while (KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .range(RangeRequest.newBuilder().setKey(b("last")).setSerializable(true).build()).getHeader()
        .getRevision() < revision) {
      assertThat(System.nanoTime()).as("revision " + revision + " reached").isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  /** Keys with several versions, deletions, a compaction, two leases (one with keys), users and roles. */
  private static void fill(ManagedChannel ch) {
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS * 3, TimeUnit.SECONDS);
    LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < KEYS; i++) {
        kv.put(PutRequest.newBuilder().setKey(b("key/" + i)).setValue(b("v" + round + "-" + "x".repeat(i))).build());
      }
    }
    for (int i = 0; i < KEYS; i += 7) {
      kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("key/" + i)).build());
    }
    long rev = kv.range(RangeRequest.newBuilder().setKey(b("key/1")).build()).getHeader().getRevision();
    kv.compact(CompactionRequest.newBuilder().setRevision(rev - KEYS).setPhysical(true).build());
    long withKeys = lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(3600).build()).getID();
    lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(7200).build());
    kv.put(PutRequest.newBuilder().setKey(b("leased/a")).setValue(b("1")).setLease(withKeys).build());
    kv.put(PutRequest.newBuilder().setKey(b("leased/b")).setValue(b("2")).setLease(withKeys).build());
    kv.put(PutRequest.newBuilder().setKey(b("big")).setValue(ByteString.copyFrom(new byte[100_000])).build());
    AuthGrpc.AuthBlockingStub auth = AuthGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    auth.userAdd(AuthUserAddRequest.newBuilder().setName("root").setPassword("rootpw").build());
    auth.userAdd(AuthUserAddRequest.newBuilder().setName("app").setPassword("apppw").build());
    auth.roleAdd(AuthRoleAddRequest.newBuilder().setName("reader").build());
    auth.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("reader")
        .setPerm(Permission.newBuilder().setPermType(Permission.Type.READ).setKey(b("key/")).setRangeEnd(b("key0")))
        .build());
    auth.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("app").setRole("reader").build());
  }

  private static State state(ManagedChannel ch) {
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    RangeResponse all = kv.range(RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).build());
    long rev = all.getHeader().getRevision();
    HashKVResponse h = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
    List<String> history = new ArrayList<>();
    for (long r = h.getCompactRevision(); r <= rev; r += 97) {
      RangeResponse at = kv.range(RangeRequest.newBuilder().setKey(b("key/")).setRangeEnd(b("key0")).setRevision(r)
          .setKeysOnly(true).build());
      history.add(r + ":" + at.getCount() + ":" + describe(at.getKvsList()));
    }
    LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    List<String> leases = new ArrayList<>();
    for (LeaseStatus l : lease.leaseLeases(LeaseLeasesRequest.getDefaultInstance()).getLeasesList()) {
      LeaseTimeToLiveResponse t = lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(l.getID())
          .setKeys(true).build());
      leases.add(Long.toHexString(l.getID()) + " granted " + t.getGrantedTTL() + " keys "
          + t.getKeysList().stream().map(ByteString::toStringUtf8).sorted().toList());
    }
    leases.sort(null);
    AuthGrpc.AuthBlockingStub auth = AuthGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    List<String> users = new ArrayList<>();
    for (String u : auth.userList(AuthUserListRequest.getDefaultInstance()).getUsersList()) {
      users.add(u + " " + auth.userGet(AuthUserGetRequest.newBuilder().setName(u).build()).getRolesList());
    }
    List<String> roles = new ArrayList<>();
    for (String r : auth.roleList(AuthRoleListRequest.getDefaultInstance()).getRolesList()) {
      roles.add(r + " " + auth.roleGet(AuthRoleGetRequest.newBuilder().setRole(r).build()).getPermList());
    }
    return new State(rev, h.getCompactRevision(), h.getHash(), describe(all.getKvsList()), history, leases, users,
        roles);
  }

  private static List<String> describe(List<KeyValue> kvs) {
    List<String> out = new ArrayList<>();
    for (KeyValue kv : kvs) {
      out.add(kv.getKey().toStringUtf8() + " c" + kv.getCreateRevision() + " m" + kv.getModRevision() + " v"
          + kv.getVersion() + " l" + Long.toHexString(kv.getLease()) + " " + kv.getValue().size() + "B "
          + Integer.toHexString(kv.getValue().hashCode()));
    }
    return out;
  }

  /** A new one-member cluster of {@code binary} on free ports. */
  private MemberProcess start(String binary, String name) throws IOException {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    MemberProcess m = new MemberProcess(binary, name, dir, client, peer, name + "=http://127.0.0.1:" + peer,
        List.of("--initial-cluster-token", TOKEN));
    processes.add(m);
    m.start();
    return m;
  }

  /** {@code etcdctl snapshot restore} of {@code file} into a new member's data dir, then {@code binary} started on it. */
  private MemberProcess restoredMember(String binary, String name, Path file) throws IOException {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    String cluster = name + "=http://127.0.0.1:" + peer;
    MemberProcess m = new MemberProcess(binary, name, dir, client, peer, cluster,
        List.of("--initial-cluster-token", TOKEN));
    etcdctl(null, "snapshot", "restore", file.toString(), "--name", name, "--initial-cluster", cluster,
        "--initial-cluster-token", TOKEN, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
        "--data-dir", m.dataDir.toString());
    processes.add(m);
    m.start();
    return m;
  }

  private ManagedChannel channel(MemberProcess m) {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", m.clientPort).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    channels.add(ch);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_MS);
    while (MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
        .status(StatusRequest.getDefaultInstance()).getLeader() == 0) {
      assertThat(System.nanoTime()).as(m.name + " has a leader").isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
    return ch;
  }

  private static String etcdBinary() {
    return System.getProperty("etcd.binary", "/usr/bin/etcd");
  }

  private String etcdctl(MemberProcess m, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(etcdBinary()).resolveSibling("etcdctl").toString()));
    if (m != null) {
      cmd.addAll(List.of("--endpoints", "127.0.0.1:" + m.clientPort));
    }
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  private String run(List<String> cmd) throws IOException {
    Path out = Files.createTempFile(dir, "cmd", ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(cmd + " did not finish in 120 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(cmd + " exited with " + p.exitValue() + ": " + text);
    }
    return text;
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
