package io.kvorum.server.metrics;

import io.kvorum.server.clock.Clock;
import io.kvorum.server.clock.Timing;
import io.kvorum.server.lease.LeaseObserver;
import io.kvorum.server.mvcc.StoreObserver;
import io.kvorum.server.transport.PeerObserver;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * One member's Prometheus metrics, with etcd 3.4.23's names, label names, help texts and buckets,
 * so that etcd's dashboards and alerts work unchanged; {@link #scrape} renders them in the text
 * exposition format 0.0.4 for the {@code /metrics} endpoint.
 *
 * <p><b>Cost on the request path.</b> Nothing is locked or allocated per request: the parts of the
 * member report through small interfaces they declare ({@link StoreObserver}, {@link
 * LeaseObserver}, {@link PeerObserver}, {@link Timing}), implemented here with {@link LongAdder}s
 * and the library's lock-free histograms; labelled children are looked up once (per peer, per gRPC
 * method), never per call. Whatever the member already keeps — leader, indexes, sizes, key and
 * watcher counts — is read at scrape time through {@link MemberGauges} instead of being counted
 * again.
 *
 * <p><b>Where Kvorum differs.</b> The client library appends {@code _total} to every counter it
 * writes, so the counters etcd names without it ({@code etcd_server_health_success},
 * {@code etcd_server_health_failures}) are written untyped under etcd's exact name. Values are
 * written in Java's notation ({@code 1.0}, {@code 2.147483648E9}; etcd writes {@code 1},
 * {@code 2.147483648e+09}), which Prometheus parses alike. JVM metrics ({@code jvm_*}) take the
 * place of Go's {@code go_*}. {@code docs/metrics.md} lists every etcd family and what Kvorum
 * exports for it.
 *
 * <p>Each member has its own registry (several members share a JVM in tests); the process and JVM
 * collectors read the whole process.
 */
public final class Metrics {
  /** The text exposition format 0.0.4, as etcd serves it. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** A label gauge's value while no member is bound: the gauge is left out. */
  private static final String NOT_BOUND = null;

  private final Clock clock;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Families families;
  private volatile MemberGauges member;
  private final String serverVersion;
  private final String clusterVersion;

  private final LongAdder healthSuccesses = new LongAdder();
  private final LongAdder healthFailures = new LongAdder();
  private final Mvcc mvcc = new Mvcc();
  private final Leases leases;
  private final NetworkMetrics network;
  private final GrpcServerMetrics grpc;
  private final LongAdder walBytes = new LongAdder();
  private final HistogramTiming walFsyncs;
  private final HistogramTiming snapshotFsyncs;
  private final HistogramTiming backendCommits;
  private final HistogramTiming backendSnapshots;
  private final HistogramTiming hashes;
  private final HistogramTiming revisionHashes;

  /**
   * @param serverVersion etcd's version string Kvorum reports ({@code 3.4.23})
   * @param clusterVersion the cluster version, major.minor ({@code 3.4})
   * @param extensive {@code --metrics extensive}: gRPC handling-time histograms too
   */
  public Metrics(Clock clock, String serverVersion, String clusterVersion, boolean extensive) {
    this.clock = clock;
    this.serverVersion = serverVersion;
    this.clusterVersion = clusterVersion;
    this.families = new Families(registry, () -> member);
    registerServer();
    registerMvcc();
    this.leases = new Leases(families);
    this.network = new NetworkMetrics(families, () -> member);
    this.grpc = new GrpcServerMetrics(families, clock, extensive);
    families.gauge("etcd_disk_wal_write_bytes_total", "Total number of bytes written in WAL.", walBytes::sum);
    families.gauge("etcd_disk_defrag_inflight",
        "Whether or not defrag is active on the member. 1 means active, 0 means not.", () -> 0);
    this.walFsyncs = timing(families.histogram("etcd_disk_wal_fsync_duration_seconds",
        "The latency distributions of fsync called by WAL.", 0.001, 2, 14));
    this.backendCommits = timing(families.histogram("etcd_disk_backend_commit_duration_seconds",
        "The latency distributions of commit called by backend.", 0.001, 2, 14));
    this.backendSnapshots = timing(families.histogram("etcd_disk_backend_snapshot_duration_seconds",
        "The latency distribution of backend snapshots.", 0.01, 2, 17));
    this.snapshotFsyncs = timing(families.histogram("etcd_snap_fsync_duration_seconds",
        "The latency distributions of fsync called by snap.", 0.001, 2, 14));
    this.hashes = timing(families.histogram("etcd_mvcc_hash_duration_seconds",
        "The latency distribution of storage hash operation.", 0.01, 2, 15));
    this.revisionHashes = timing(families.histogram("etcd_mvcc_hash_rev_duration_seconds",
        "The latency distribution of storage hash by revision operation.", 0.01, 2, 15));
    families.memberGauge("etcd_debugging_auth_revision", "The current revision of auth store.",
        MemberGauges::authRevision);
    ProcessMetrics.register(registry);
  }

  private HistogramTiming timing(Histogram h) {
    return new HistogramTiming(clock, h);
  }

  private void registerServer() {
    Families f = families;
    f.memberGauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
        m -> m.leader() != 0 ? 1 : 0);
    f.memberGauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
        m -> m.isLeader() ? 1 : 0);
    f.memberGauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
        m -> m.isLearner() ? 1 : 0);
    f.memberCounter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.",
        MemberGauges::leaderChanges);
    f.memberCounter("etcd_server_slow_apply_total",
        "The total number of slow apply requests (likely overloaded from slow disk).", MemberGauges::slowApplies);
    f.memberGauge("etcd_server_snapshot_apply_in_progress_total",
        "1 if the server is applying the incoming snapshot. 0 if none.", m -> m.applyingSnapshot() ? 1 : 0);
    // Gauges in etcd despite the _total.
    f.memberGauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
        MemberGauges::committedIndex);
    f.memberGauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
        MemberGauges::appliedIndex);
    f.memberGauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
        MemberGauges::pendingProposals);
    f.memberCounter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
        MemberGauges::failedProposals);
    f.memberCounter("etcd_debugging_server_lease_expired_total", "The total number of expired leases.",
        MemberGauges::expiredLeases);
    f.memberGauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
        MemberGauges::quotaBackendBytes);
    f.labelGauge("etcd_server_version",
        "Which version is running. 1 for 'server_version' label with current version.", "server_version",
        () -> serverVersion);
    f.labelGauge("etcd_cluster_version",
        "Which version is running. 1 for 'cluster_version' label with current cluster version", "cluster_version",
        () -> member == null ? NOT_BOUND : clusterVersion);
    f.labelGauge("etcd_server_id",
        "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", "server_id",
        () -> member == null ? NOT_BOUND : Long.toHexString(member.memberId()));
    f.untypedCounter("etcd_server_health_success", "The total number of successful health checks",
        healthSuccesses::sum);
    f.untypedCounter("etcd_server_health_failures", "The total number of failed health checks",
        healthFailures::sum);
  }

  private void registerMvcc() {
    Families f = families;
    // etcd 3.4 exports each count twice, under etcd_ and (to be removed in 3.5) etcd_debugging_.
    for (String ns : new String[] {"etcd", "etcd_debugging"}) {
      f.counter(ns + "_mvcc_range_total", "Total number of ranges seen by this member.", mvcc.ranges::sum);
      f.counter(ns + "_mvcc_put_total", "Total number of puts seen by this member.", mvcc.puts::sum);
      f.counter(ns + "_mvcc_delete_total", "Total number of deletes seen by this member.", mvcc.deletes::sum);
      f.counter(ns + "_mvcc_txn_total", "Total number of txns seen by this member.", mvcc.txns::sum);
      f.memberGauge(ns + "_mvcc_db_total_size_in_bytes",
          "Total size of the underlying database physically allocated in bytes.", MemberGauges::dbSizeBytes);
    }
    f.memberGauge("etcd_mvcc_db_total_size_in_use_in_bytes",
        "Total size of the underlying database logically in use in bytes.", MemberGauges::dbInUseBytes);
    f.gauge("etcd_debugging_mvcc_total_put_size_in_bytes", "The total size of put kv pairs seen by this member.",
        mvcc.putBytes::sum);
    f.counter("etcd_debugging_mvcc_db_compaction_keys_total", "Total number of db keys compacted.",
        mvcc.compactedKeys::sum);
    f.memberGauge("etcd_debugging_mvcc_keys_total", "Total number of keys.", MemberGauges::liveKeys);
    f.memberGauge("etcd_debugging_mvcc_current_revision", "The current revision of store.",
        MemberGauges::currentRevision);
    f.memberGauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
        MemberGauges::compactRevision);
    f.memberGauge("etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.",
        MemberGauges::watchStreams);
    f.memberGauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.", MemberGauges::watchers);
    f.memberGauge("etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.",
        MemberGauges::slowWatchers);
    f.memberCounter("etcd_debugging_mvcc_events_total", "Total number of events sent by this member.",
        MemberGauges::watchEventsSent);
  }

  /** Binds the member whose state the gauges read; until then they are left out of a scrape. */
  public void bind(MemberGauges m) {
    this.member = m;
  }

  /** Writes every metric in the text exposition format 0.0.4 ({@link #contentType()}). */
  public void scrape(OutputStream out) throws IOException {
    writer.write(out, registry.scrape());
  }

  /** {@code text/plain; version=0.0.4; charset=utf-8}. */
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** Counts a {@code /health} check that answered healthy (etcd's {@code etcd_server_health_success}). */
  public void healthSucceeded() {
    healthSuccesses.increment();
  }

  /** Counts a {@code /health} check that answered unhealthy (etcd's {@code etcd_server_health_failures}). */
  public void healthFailed() {
    healthFailures.increment();
  }

  /** The store's transaction and compaction counts. */
  public StoreObserver store() {
    return mvcc;
  }

  /** The lessor's grants, revocations and renewals. */
  public LeaseObserver leases() {
    return leases;
  }

  /** Per-peer traffic, and failed leader heartbeats. */
  public PeerObserver peers() {
    return network;
  }

  /** The client gRPC server's calls and bytes. */
  public GrpcServerMetrics grpc() {
    return grpc;
  }

  /** WAL fsyncs. */
  public Timing walFsyncs() {
    return walFsyncs;
  }

  /** Bytes appended to the WAL. */
  public LongConsumer walAppended() {
    return walBytes::add;
  }

  /** Snapshot file fsyncs. */
  public Timing snapshotFsyncs() {
    return snapshotFsyncs;
  }

  /** Backend batch commits. */
  public Timing backendCommits() {
    return backendCommits;
  }

  /** Whole-backend snapshots sent to a member, from the first chunk read to the last. */
  public Timing backendSnapshots() {
    return backendSnapshots;
  }

  /** Whole-backend hashes ({@code Hash}). */
  public Timing hashes() {
    return hashes;
  }

  /** Hashes by revision ({@code HashKV}). */
  public Timing revisionHashes() {
    return revisionHashes;
  }

  /** etcd's metricsTxnWrite counts, summed over every transaction. */
  private static final class Mvcc implements StoreObserver {
    final LongAdder ranges = new LongAdder();
    final LongAdder puts = new LongAdder();
    final LongAdder deletes = new LongAdder();
    final LongAdder txns = new LongAdder();
    final LongAdder putBytes = new LongAdder();
    final LongAdder compactedKeys = new LongAdder();

    @Override
    public void txnEnded(int ranges, int puts, int deletes, long putBytes) {
      if (ranges + puts + deletes > 1) {
        txns.increment();
      }
      if (ranges > 0) {
        this.ranges.add(ranges);
      }
      if (puts > 0) {
        this.puts.add(puts);
        this.putBytes.add(putBytes);
      }
      if (deletes > 0) {
        this.deletes.add(deletes);
      }
    }

    @Override
    public void compacted(int revisions) {
      compactedKeys.add(revisions);
    }
  }

  /** etcd's lease metrics. */
  private static final class Leases implements LeaseObserver {
    final LongAdder granted = new LongAdder();
    final LongAdder revoked = new LongAdder();
    final LongAdder renewed = new LongAdder();
    final Histogram ttls;

    Leases(Families f) {
      f.counter("etcd_debugging_lease_granted_total", "The total number of granted leases.", granted::sum);
      f.counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases.", revoked::sum);
      f.counter("etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader.",
          renewed::sum);
      // 1 second to 3 months.
      ttls = f.histogram("etcd_debugging_lease_ttl_total", "Bucketed histogram of lease TTLs.", 1, 2, 24);
    }

    @Override
    public void granted(long ttlSeconds) {
      granted.increment();
      ttls.observe(ttlSeconds);
    }

    @Override
    public void revoked() {
      revoked.increment();
    }

    @Override
    public void renewed() {
      renewed.increment();
    }
  }
}
