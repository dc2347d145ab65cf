package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.metrics.Metrics;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.testing.PrometheusText;
import io.kvorum.server.testing.PrometheusText.Family;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The member's {@code /metrics} text, scraped from {@link Metrics} on a three-member cluster after
 * puts, deletes, a txn, a range, a lease and a watch over real gRPC, parsed strictly: etcd's names,
 * types, labels and help texts, values that follow what happened, and the families compared with
 * those real etcd 3.4.23 exports.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsScrapeTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static String scrapeText(EtcdServer m) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.metrics().scrape(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  static Map<String, Family> scrape(EtcdServer m) throws IOException {
    return PrometheusText.parse(scrapeText(m));
  }

  private static Map<String, String> labels(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static double value(Map<String, Family> fs, String family, String... kv) {
    Family f = fs.get(family);
    assertThat(f).as(family).isNotNull();
    Double v = f.value(family, labels(kv));
    assertThat(v).as(family + " " + labels(kv)).isNotNull();
    return v;
  }

  private static Map<String, String> grpc(String code, String method, String service, String type) {
    Map<String, String> m = new LinkedHashMap<>();
    if (code != null) {
      m.put("grpc_code", code);
    }
    m.put("grpc_method", method);
    m.put("grpc_service", service);
    m.put("grpc_type", type);
    return m;
  }

  @Test
  void scrape_afterRequests_hasEtcdsFamiliesAndValues() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 3, b -> { });
    toClose.add(c);
    EtcdServer leader = c.leader(s -> true);
    EtcdServer follower = c.other(leader);
    ClientServer cs = ClientServer.start(leader, List.of(URI.create("http://127.0.0.1:0")));
    toClose.add(cs);
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cs.ports().get(0)).usePlaintext().build();
    toClose.add(ch::shutdownNow);
    var kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);

    Map<String, Family> before = scrape(leader);
    assertThat(value(before, "etcd_mvcc_put_total")).isZero();

    WatchLeaseGrpcTest.Client w = new WatchLeaseGrpcTest.Client();
    w.out = WatchGrpc.newStub(ch).watch(w);
    w.create(WatchCreateRequest.newBuilder().setKey(b("a")));
    assertThat(w.response().getCreated()).isTrue();

    kv.put(PutRequest.newBuilder().setKey(b("a")).setValue(b("1")).build());
    kv.put(PutRequest.newBuilder().setKey(b("b")).setValue(b("22")).setPrevKv(true).build());
    kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("a")).build());
    kv.range(RangeRequest.newBuilder().setKey(b("b")).build());
    kv.txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("b")).setTarget(Compare.CompareTarget.VERSION)
            .setResult(Compare.CompareResult.GREATER).setVersion(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c")).setValue(b("3"))))
        .build());
    LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
        .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build());
    WatchResponse put = w.response();
    assertThat(put.getEventsCount()).isEqualTo(1);
    WatchResponse deleted = w.response();
    assertThat(deleted.getEventsCount()).isEqualTo(1);

    // Members' publications may still be applying: the scrape reads the applied index at its moment.
    long appliedBefore = leader.appliedIndex();
    Map<String, Family> fs = scrape(leader);
    long appliedAfter = leader.appliedIndex();
    // The server: leadership, versions, identity.
    assertThat(value(fs, "etcd_server_has_leader")).isEqualTo(1);
    assertThat(value(fs, "etcd_server_is_leader")).isEqualTo(1);
    assertThat(value(fs, "etcd_server_is_learner")).isZero();
    assertThat(value(fs, "etcd_server_leader_changes_seen_total")).isGreaterThanOrEqualTo(1);
    assertThat(value(fs, "etcd_server_version", "server_version", "3.4.23")).isEqualTo(1);
    assertThat(value(fs, "etcd_cluster_version", "cluster_version", "3.4")).isEqualTo(1);
    assertThat(value(fs, "etcd_server_id", "server_id", Long.toHexString(leader.memberId()))).isEqualTo(1);
    assertThat(value(fs, "etcd_server_proposals_applied_total")).isBetween((double) appliedBefore, (double) appliedAfter);
    assertThat(value(fs, "etcd_server_proposals_committed_total")).isGreaterThanOrEqualTo(appliedBefore);
    assertThat(value(fs, "etcd_server_quota_backend_bytes")).isEqualTo(2147483648.0);
    assertThat(fs.get("etcd_server_proposals_committed_total").type()).as("a gauge in etcd").isEqualTo("gauge");
    // mvcc: two puts and the txn's, one delete; ranges: the range, the put's prev_kv, the txn's compare.
    assertThat(value(fs, "etcd_mvcc_put_total")).isEqualTo(3);
    assertThat(value(fs, "etcd_debugging_mvcc_put_total")).isEqualTo(3);
    assertThat(value(fs, "etcd_mvcc_delete_total")).isEqualTo(1);
    assertThat(value(fs, "etcd_mvcc_range_total")).isEqualTo(3);
    assertThat(value(fs, "etcd_mvcc_txn_total")).as("the put with prev_kv and the txn").isEqualTo(2);
    assertThat(value(fs, "etcd_debugging_mvcc_total_put_size_in_bytes")).isEqualTo(2 + 3 + 2);
    assertThat(value(fs, "etcd_debugging_mvcc_keys_total")).as("b and c").isEqualTo(2);
    assertThat(value(fs, "etcd_debugging_mvcc_current_revision")).isEqualTo(5);
    assertThat(value(fs, "etcd_debugging_mvcc_compact_revision")).isEqualTo(-1);
    assertThat(value(fs, "etcd_mvcc_db_total_size_in_bytes")).isPositive();
    // Watch.
    assertThat(value(fs, "etcd_debugging_mvcc_watch_stream_total")).isEqualTo(1);
    assertThat(value(fs, "etcd_debugging_mvcc_watcher_total")).isEqualTo(1);
    assertThat(value(fs, "etcd_debugging_mvcc_slow_watcher_total")).isZero();
    assertThat(value(fs, "etcd_debugging_mvcc_events_total")).isEqualTo(2);
    // Lease.
    assertThat(value(fs, "etcd_debugging_lease_granted_total")).isEqualTo(1);
    assertThat(fs.get("etcd_debugging_lease_ttl_total").value("etcd_debugging_lease_ttl_total_count", Map.of()))
        .isEqualTo(1);
    // Disk.
    assertThat(fs.get("etcd_disk_wal_fsync_duration_seconds").value("etcd_disk_wal_fsync_duration_seconds_count",
        Map.of())).isPositive();
    assertThat(fs.get("etcd_disk_backend_commit_duration_seconds")
        .value("etcd_disk_backend_commit_duration_seconds_count", Map.of())).isPositive();
    assertThat(value(fs, "etcd_disk_wal_write_bytes_total")).isPositive();
    // gRPC, as go-grpc-prometheus labels it.
    Family handled = fs.get("grpc_server_handled_total");
    assertThat(handled.type()).isEqualTo("counter");
    assertThat(handled.value("grpc_server_handled_total", grpc("OK", "Range", "etcdserverpb.KV", "unary")))
        .isEqualTo(1);
    assertThat(handled.value("grpc_server_handled_total", grpc("OK", "Put", "etcdserverpb.KV", "unary")))
        .isEqualTo(2);
    assertThat(handled.value("grpc_server_handled_total", grpc("Unavailable", "Compact", "etcdserverpb.KV", "unary")))
        .as("pre-initialised").isZero();
    assertThat(fs.get("grpc_server_started_total").value("grpc_server_started_total",
        grpc(null, "Watch", "etcdserverpb.Watch", "bidi_stream"))).isEqualTo(1);
    assertThat(fs.get("grpc_server_msg_sent_total").value("grpc_server_msg_sent_total",
        grpc(null, "Watch", "etcdserverpb.Watch", "bidi_stream"))).isEqualTo(3);
    assertThat(fs.get("grpc_server_msg_received_total").value("grpc_server_msg_received_total",
        grpc(null, "Watch", "etcdserverpb.Watch", "bidi_stream"))).isEqualTo(1);
    assertThat(value(fs, "etcd_network_client_grpc_received_bytes_total")).isPositive();
    assertThat(value(fs, "etcd_network_client_grpc_sent_bytes_total")).isPositive();
    assertThat(value(fs, "etcd_server_client_requests_total", "client_api_version", "unknown", "type", "unary"))
        .isEqualTo(6);
    // The peers, by hex id.
    String local = Long.toHexString(leader.memberId());
    for (EtcdServer p : c.members().values()) {
      if (p == leader) {
        continue;
      }
      String remote = Long.toHexString(p.memberId());
      // A peer stream may be between connections on a loaded machine: wait for it to be active.
      LocalCluster.await("the stream to " + remote + " is active", () -> {
        try {
          return value(scrape(leader), "etcd_network_active_peers", "Local", local, "Remote", remote) == 1;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertThat(value(fs, "etcd_network_peer_sent_bytes_total", "To", remote)).isPositive();
      assertThat(value(fs, "etcd_network_peer_received_bytes_total", "From", remote)).isPositive();
      assertThat(fs.get("etcd_network_peer_round_trip_time_seconds").value(
          "etcd_network_peer_round_trip_time_seconds_count", labels("To", remote))).isPositive();
    }
    // The process.
    assertThat(value(fs, "process_open_fds")).isPositive();
    assertThat(value(fs, "process_start_time_seconds")).isPositive();
    assertThat(fs).containsKey("jvm_memory_used_bytes");
    compareWithEtcd(fs);

    // A client that goes away: its watch ends Canceled, and the stream and watcher are gone.
    w.out.onError(new RuntimeException("client gone"));
    LocalCluster.await("the canceled watch counted", () -> {
      try {
        Map<String, Family> now = scrape(leader);
        Double canceled = now.get("grpc_server_handled_total").value("grpc_server_handled_total",
            grpc("Canceled", "Watch", "etcdserverpb.Watch", "bidi_stream"));
        return canceled != null && canceled == 1 && value(now, "etcd_debugging_mvcc_watch_stream_total") == 0
            && value(now, "etcd_debugging_mvcc_watcher_total") == 0;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });

    // A follower: not the leader, the same leader seen, the same store.
    Map<String, Family> f = scrape(follower);
    assertThat(value(f, "etcd_server_is_leader")).isZero();
    assertThat(value(f, "etcd_server_has_leader")).isEqualTo(1);
    assertThat(value(f, "etcd_server_id", "server_id", Long.toHexString(follower.memberId()))).isEqualTo(1);
    LocalCluster.await("the follower applied the puts", () -> follower.appliedIndex() >= leader.appliedIndex());
    assertThat(value(scrape(follower), "etcd_debugging_mvcc_keys_total")).isEqualTo(2);
  }

  @Test
  void scrape_text_matchesEtcdsLinesLiterally() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 1, b -> { });
    toClose.add(c);
    EtcdServer m = c.leader(s -> true);
    ClientServer cs = ClientServer.start(m, List.of(URI.create("http://127.0.0.1:0")));
    toClose.add(cs);
    String text = scrapeText(m);
    // What etcd's e2e metrics tests look for, as substrings of the scrape.
    assertThat(text).contains("etcd_server_version{server_version=\"3.4.23\"} 1");
    assertThat(text).contains("etcd_cluster_version{cluster_version=\"3.4\"} 1");
    assertThat(text).contains("grpc_server_handled_total{grpc_code=\"Canceled\",grpc_method=\"Watch\","
        + "grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\"} 0");
    assertThat(text).contains("# TYPE etcd_server_proposals_committed_total gauge");
    assertThat(text).contains("# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.");
    assertThat(text).contains("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"}");
    assertThat(m.metrics().contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    m.metrics().healthSucceeded();
    m.metrics().healthFailed();
    m.metrics().healthFailed();
    Map<String, Family> fs = PrometheusText.parse(scrapeText(m));
    assertThat(value(fs, "etcd_server_health_success")).isEqualTo(1);
    assertThat(value(fs, "etcd_server_health_failures")).isEqualTo(2);
  }

  /**
   * Every family etcd 3.4.23 exports is exported by Kvorum with the same type, or is one of those
   * docs/metrics.md lists as absent or typed differently; Kvorum exports nothing else but jvm_*.
   * Compared on the leader of three members, where the per-peer families have children.
   */
  private static void compareWithEtcd(Map<String, Family> kvorum) throws IOException {
    Map<String, String> etcd = new TreeMap<>();
    Map<String, String> etcdHelp = new TreeMap<>();
    try (InputStream in = MetricsScrapeTest.class.getResourceAsStream("/metrics/etcd-3.4.23-families.txt")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          String[] nt = line.split(" ", 3);
          etcd.put(nt[0], nt[1]);
          etcdHelp.put(nt[0], nt[2]);
        }
      }
    }
    Map<String, String> absent = new TreeMap<>();
    Map<String, String> typed = new TreeMap<>();
    for (Map.Entry<String, String> e : etcd.entrySet()) {
      Family f = kvorum.get(e.getKey());
      if (f == null) {
        absent.put(e.getKey(), e.getValue());
      } else if (!f.type().equals(e.getValue())) {
        typed.put(e.getKey(), f.type());
      }
    }
    String doc = new String(java.nio.file.Files.readAllBytes(docsMetrics()), StandardCharsets.UTF_8);
    List<String> undocumented = absent.keySet().stream().filter(n -> !doc.contains("`" + n + "`")).toList();
    assertThat(undocumented).as("absent families docs/metrics.md does not list").isEmpty();
    assertThat(typed).as("families typed differently").isEqualTo(Map.of(
        "etcd_server_health_success", "untyped", "etcd_server_health_failures", "untyped"));
    List<String> extra = kvorum.keySet().stream().filter(n -> !etcd.containsKey(n) && !n.startsWith("jvm_")).toList();
    assertThat(extra).as("families etcd does not export").isEmpty();
    assertThat(absent.keySet()).as("the families of the brief are all there").doesNotContain(
        "etcd_server_has_leader", "etcd_mvcc_put_total", "etcd_disk_wal_fsync_duration_seconds",
        "etcd_network_peer_round_trip_time_seconds", "etcd_network_active_peers", "grpc_server_handled_total",
        "process_cpu_seconds_total");
    for (Family f : kvorum.values()) {
      if (etcd.containsKey(f.name())) {
        assertThat(f.help()).as("help of " + f.name()).isEqualTo(etcdHelp.get(f.name()));
      }
    }
  }

  private static Path docsMetrics() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !java.nio.file.Files.exists(p.resolve("docs/metrics.md"))) {
      p = p.getParent();
    }
    assertThat(p).as("docs/metrics.md above the working directory").isNotNull();
    return p.resolve("docs/metrics.md");
  }
}
