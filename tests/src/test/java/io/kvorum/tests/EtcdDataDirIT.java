package io.kvorum.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kvorum.proto.etcdraftpb.ConfChange;
import io.kvorum.proto.etcdraftpb.ConfChangeType;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.EntryType;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.etcddata.EtcdDataDir;
import io.kvorum.server.etcddata.EtcdEntries;
import io.kvorum.server.etcddata.EtcdMember;
import io.kvorum.server.etcddata.EtcdWal;
import io.kvorum.server.membership.MemberIds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kvorum's reader of etcd data dirs against data the real etcd 3.4.23 wrote: what
 * {@code etcdctl snapshot restore} makes, and the dir of a live member stopped with SIGTERM after a
 * mix of key, lease, auth and membership requests.
 */
class EtcdDataDirIT {
  static final String ETCD_VERSION = "3.4.23";
  /** Any one etcdctl call must finish within this. */
  static final long ETCDCTL_TIMEOUT_MS = 60_000;
  static final String TOKEN = "t";

  @TempDir Path dir;
  final List<MemberProcess> members = new ArrayList<>();

  static String etcd() {
    return System.getProperty("etcd.binary", "/usr/bin/etcd");
  }

  static String etcdctl() {
    return System.getProperty("etcdctl.binary", "/usr/bin/etcdctl");
  }

  @BeforeAll
  static void checkEtcd() throws Exception {
    for (String bin : List.of(etcd(), etcdctl())) {
      if (!Files.isExecutable(Path.of(bin))) {
        throw new IllegalStateException("no " + bin + ": install etcd " + ETCD_VERSION + " (.ci/install-etcd)");
      }
    }
    assertThat(run(Path.of("."), List.of(etcdctl(), "version"), null)).contains("etcdctl version: " + ETCD_VERSION);
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    for (MemberProcess m : members) {
      m.close();
    }
  }

  /** Runs a command with ETCDCTL_API=3; returns its output; fails on a non-zero exit or a timeout. */
  static String run(Path cwd, List<String> cmd, String stdin) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    // Output is small; reading it before waiting cannot block the child for long, and the wait is bounded.
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(ETCDCTL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IOException(cmd + " timed out");
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(cmd + " exited with " + p.exitValue() + ": " + s);
    }
    return s;
  }

  private MemberProcess startEtcd(String name, List<String> flags) throws IOException {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    List<String> all = new ArrayList<>(List.of("--initial-cluster-token", TOKEN));
    all.addAll(flags);
    MemberProcess m = new MemberProcess(etcd(), name, dir, client, peer, name + "=http://127.0.0.1:" + peer, all);
    members.add(m);
    m.start();
    return m;
  }

  private String ctl(MemberProcess m, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(etcdctl(), "--endpoints=" + m.clientUrl(), "--command-timeout=30s"));
    cmd.addAll(List.of(args));
    return run(dir, cmd, null);
  }

  @Test
  void read_restoredSnapshot_hasTheRestoredClusterAndNothingElse() throws Exception {
    MemberProcess src = startEtcd("src", List.of());
    ctl(src, "put", "k", "v");
    Path snapFile = dir.resolve("snapshot.db");
    ctl(src, "snapshot", "save", snapFile.toString());
    src.stop();

    String p1 = "http://127.0.0.1:" + MemberProcess.freePort();
    String p2 = "http://127.0.0.1:" + MemberProcess.freePort();
    Path data = dir.resolve("a.etcd");
    run(dir, List.of(etcdctl(), "snapshot", "restore", snapFile.toString(), "--data-dir", data.toString(),
        "--name", "a", "--initial-cluster", "a=" + p1 + ",b=" + p2, "--initial-cluster-token", TOKEN,
        "--initial-advertise-peer-urls", p1), null);

    long a = MemberIds.memberId(List.of(p1), TOKEN);
    long b = MemberIds.memberId(List.of(p2), TOKEN);
    assertThat(EtcdDataDir.isEtcd(data, Optional.empty())).isTrue();
    EtcdDataDir d = EtcdDataDir.read(data, Optional.empty());
    assertThat(d.memberId()).isEqualTo(a);
    assertThat(d.clusterId()).isEqualTo(MemberIds.clusterId(List.of(a, b)));
    assertThat(d.hardState().getCommit()).isEqualTo(2);
    assertThat(d.hardState().getTerm()).isEqualTo(1);
    assertThat(d.snapshot().getIndex()).isEqualTo(2);
    assertThat(d.snapshot().getTerm()).isEqualTo(1);
    assertThat(new TreeSet<>(d.snapshot().getConfState().getVotersList())).containsExactlyInAnyOrder(a, b);
    assertThat(d.snapFile()).isPresent();
    assertThat(d.committedEntries()).isEmpty();
    assertThat(d.hasUncommittedEntries()).isFalse();
    assertThat(d.wal().snapshots()).containsExactly(new EtcdWal.Marker(0, 0), new EtcdWal.Marker(2, 1));
    assertThat(d.dbFile()).isEqualTo(data.resolve("member/snap/db")).isRegularFile();

    List<Entry> log = d.wal().entriesAfter(new EtcdWal.Marker(0, 0));
    assertThat(log).hasSize(2);
    Set<Long> added = new TreeSet<>();
    for (Entry e : log) {
      assertThat(e.getTerm()).isEqualTo(1);
      assertThat(e.getType()).isEqualTo(EntryType.EntryConfChange);
      assertThat(ConfChange.parseFrom(e.getData()).getType()).isEqualTo(ConfChangeType.ConfChangeAddNode);
      EtcdEntries.MemberChange c = (EtcdEntries.MemberChange) EtcdEntries.decode(e);
      assertThat(c.kind()).isEqualTo(EtcdEntries.ChangeKind.ADD);
      added.add(c.memberId());
      assertThat(c.member().orElseThrow().name()).isEqualTo(c.memberId() == a ? "a" : "b");
    }
    assertThat(added).containsExactlyInAnyOrder(a, b);

    assertThat(d.membership().members().keySet()).containsExactlyInAnyOrder(a, b);
    assertThat(d.membership().members().get(a).peerUrls()).containsExactly(p1);
    assertThat(d.membership().members().get(b).peerUrls()).containsExactly(p2);
    // The restored v2 store holds raft attributes only: names come with each member's first publish.
    assertThat(d.membership().members().get(a).name()).isEmpty();
    assertThat(d.membership().removed()).isEmpty();
  }

  @Test
  void read_liveMemberDir_decodesTranslatesAndMatchesMemberList() throws Exception {
    // A small snapshot count makes the member write .snap files (with published attributes and the
    // cluster version in their v2 store) in the middle of the requests below.
    MemberProcess m = startEtcd("live", List.of("--snapshot-count", "10"));
    ctl(m, "put", "k1", "v1");
    ctl(m, "put", "k2", "v2");
    ctl(m, "del", "k1");
    String lease = ctl(m, "lease", "grant", "600").split("\\s+")[1];
    ctl(m, "put", "k3", "v3", "--lease=" + lease);
    ctl(m, "lease", "revoke", lease);
    ctl(m, "put", "k4", "v4");
    ctl(m, "compaction", "2");
    ctl(m, "alarm", "list");
    ctl(m, "user", "add", "root:rootpw");
    ctl(m, "role", "add", "r1");
    ctl(m, "role", "grant-permission", "r1", "readwrite", "/a");
    ctl(m, "user", "add", "u1:pw1");
    ctl(m, "user", "grant-role", "u1", "r1");
    ctl(m, "auth", "enable");
    ctl(m, "--user=root:rootpw", "put", "k5", "v5");
    run(dir, List.of(etcdctl(), "--endpoints=" + m.clientUrl(), "--user=root:rootpw", "user", "passwd", "u1",
        "--interactive=false"), "pw2\n");
    ctl(m, "--user=root:rootpw", "user", "revoke-role", "u1", "r1");
    String l1 = "http://127.0.0.1:" + MemberProcess.freePort();
    String l2 = "http://127.0.0.1:" + MemberProcess.freePort();
    // etcd 3.4 allows one learner at a time: l1 is added, moved and removed, then l2 stays.
    ctl(m, "--user=root:rootpw", "member", "add", "l1", "--learner", "--peer-urls=" + l1);
    long l1Id = idOf(memberList(m), l1);
    String l1b = "http://127.0.0.1:" + MemberProcess.freePort();
    ctl(m, "--user=root:rootpw", "member", "update", Long.toHexString(l1Id), "--peer-urls=" + l1b);
    ctl(m, "--user=root:rootpw", "member", "remove", Long.toHexString(l1Id));
    ctl(m, "--user=root:rootpw", "member", "add", "l2", "--learner", "--peer-urls=" + l2);
    long l2Id = idOf(memberList(m), l2);
    ctl(m, "--user=root:rootpw", "put", "k6", "v6");
    JsonObject list = memberList(m);
    m.stop();

    EtcdDataDir d = EtcdDataDir.read(m.dataDir, Optional.empty());
    assertThat(d.memberId()).isEqualTo(MemberIds.memberId(List.of(m.peerUrl()), TOKEN));
    assertThat(d.clusterId()).isEqualTo(MemberIds.clusterId(List.of(d.memberId())));
    assertThat(d.snapFile()).as("a .snap file at --snapshot-count 10").isPresent();
    // The snapshot was taken after the member published itself and set the cluster version: its
    // v2 store holds both.
    assertThat(d.snapshot().getIndex()).isGreaterThanOrEqualTo(10);
    assertThat(d.snapshotMembership().members().get(d.memberId()).name()).isEqualTo("live");
    assertThat(d.snapshotMembership().members().get(d.memberId()).clientUrls()).containsExactly(m.clientUrl());
    assertThat(d.snapshotMembership().clusterVersion()).contains("3.4.0");
    assertThat(d.hasUncommittedEntries()).isFalse();
    assertThat(d.wal().tornTail()).isFalse();

    // Every entry the WAL holds since the start decodes; every request translates.
    Passwords passwords = new Passwords(Passwords.MIN_COST);
    Set<String> requests = new TreeSet<>();
    Set<EtcdEntries.ChangeKind> changes = new TreeSet<>();
    for (Entry e : d.wal().entriesAfter(new EtcdWal.Marker(0, 0))) {
      EtcdEntries.Payload p = EtcdEntries.decode(e);
      if (p instanceof EtcdEntries.MemberChange c) {
        changes.add(c.kind());
      } else if (!(p instanceof EtcdEntries.Noop)) {
        EtcdEntries.Translation t = EtcdEntries.translate(p, passwords);
        assertThat(t).as("entry %d: %s", e.getIndex(), p).isInstanceOf(EtcdEntries.Translated.class);
        requests.add(((EtcdEntries.Translated) t).request().getRequestCase().name());
      }
    }
    assertThat(changes).contains(EtcdEntries.ChangeKind.ADD, EtcdEntries.ChangeKind.ADD_LEARNER,
        EtcdEntries.ChangeKind.UPDATE, EtcdEntries.ChangeKind.REMOVE);
    assertThat(requests).contains("PUBLISH", "CLUSTER_VERSION", "PUT", "DELETE_RANGE", "LEASE_GRANT", "LEASE_REVOKE",
        "COMPACTION", "ALARM", "AUTH_USER_ADD", "AUTH_ROLE_ADD", "AUTH_ROLE_GRANT_PERMISSION", "AUTH_USER_GRANT_ROLE",
        "AUTH_ENABLE", "AUTHENTICATE", "AUTH_USER_CHANGE_PASSWORD", "AUTH_USER_REVOKE_ROLE");

    // The membership as of the commit index is what etcd listed before it stopped.
    Map<Long, EtcdMember> expected = new HashMap<>();
    for (JsonElement e : list.getAsJsonArray("members")) {
      JsonObject o = e.getAsJsonObject();
      long id = o.get("ID").getAsBigInteger().longValue();
      expected.put(id, new EtcdMember(id, o.has("name") ? o.get("name").getAsString() : "", strings(o, "peerURLs"),
          strings(o, "clientURLs"), o.has("isLearner") && o.get("isLearner").getAsBoolean()));
    }
    assertThat(d.membership().members()).isEqualTo(expected);
    assertThat(d.membership().members().get(l2Id).isLearner()).isTrue();
    assertThat(d.membership().removed()).containsExactly(l1Id);
    assertThat(d.membership().clusterVersion()).contains("3.4.0");
  }

  private JsonObject memberList(MemberProcess m) throws IOException, InterruptedException {
    return JsonParser.parseString(ctl(m, "--user=root:rootpw", "member", "list", "-w", "json")).getAsJsonObject();
  }

  private static long idOf(JsonObject list, String peerUrl) {
    for (JsonElement e : list.getAsJsonArray("members")) {
      JsonObject o = e.getAsJsonObject();
      if (strings(o, "peerURLs").contains(peerUrl)) {
        return o.get("ID").getAsBigInteger().longValue();
      }
    }
    throw new AssertionError("no member with peer URL " + peerUrl + " in " + list);
  }

  private static List<String> strings(JsonObject o, String field) {
    List<String> out = new ArrayList<>();
    if (o.has(field)) {
      o.getAsJsonArray(field).forEach(e -> out.add(e.getAsString()));
    }
    return out;
  }
}
