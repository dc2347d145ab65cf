package io.kvorum.bench.tools;

import com.google.protobuf.ByteString;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adding a learner to a cluster that holds a lot of data: three embedded members are loaded with
 * {@code --data-mb} of values ({@code --value-kb} each, under {@code --prefix-keys} distinct keys),
 * then a learner is added and started while a closed-loop writer keeps putting small values to the
 * leader. Reports the time until the learner has caught up (it receives the leader's backend as a
 * snapshot, then the log) and the leader's put latency before and during the catch-up.
 *
 * <pre>
 * java -cp "bench/target/classes:cli/target/kvorum-cli.jar:cli/target/lib/*" \
 *   io.kvorum.bench.tools.LearnerCatchUp --data-mb 1024 --value-kb 16
 * </pre>
 */
public final class LearnerCatchUp {
  private LearnerCatchUp() {}

  public static void main(String[] args) throws Exception {
    int dataMb = LeaseStorm.intArg(args, "--data-mb", 1024);
    int valueKb = LeaseStorm.intArg(args, "--value-kb", 16);
    int inflight = LeaseStorm.intArg(args, "--inflight", 64);
    int baselineSeconds = LeaseStorm.intArg(args, "--baseline-seconds", 10);
    int limitSeconds = LeaseStorm.intArg(args, "--limit-seconds", 1200);
    Path dir = Path.of(LeaseStorm.strArg(args, "--dir", Files.createTempDirectory("kvorum-learner").toString()));
    Map<String, URI> urls = new LinkedHashMap<>();
    for (String n : List.of("m1", "m2", "m3", "m4")) {
      urls.put(n, URI.create("http://127.0.0.1:" + freePort()));
    }
    String initial = "m1=" + urls.get("m1") + ",m2=" + urls.get("m2") + ",m3=" + urls.get("m3");
    List<EtcdServer> members = new ArrayList<>();
    EtcdServer learner = null;
    try {
      for (String n : List.of("m1", "m2", "m3")) {
        members.add(EtcdServer.start(config(dir, n, urls.get(n), initial, ServerConfig.ClusterState.NEW)));
      }
      LeaseStorm.await(() -> members.stream().anyMatch(s -> s.raftStatus().isLeader()), 30);
      EtcdServer leader = members.stream().filter(s -> s.raftStatus().isLeader()).findFirst().orElseThrow();

      // Load.
      long total = (long) dataMb * 1024 * 1024;
      int valueBytes = valueKb * 1024;
      long puts = total / valueBytes;
      byte[] value = new byte[valueBytes];
      new java.util.Random(1).nextBytes(value);
      ByteString v = ByteString.copyFrom(value);
      Semaphore window = new Semaphore(inflight);
      AtomicLong failed = new AtomicLong();
      long t0 = System.nanoTime();
      for (long i = 0; i < puts; i++) {
        window.acquire();
        leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(String.format(Locale.ROOT, "data/%010d", i)))
            .setValue(v).build()).whenComplete((r, err) -> {
              if (err != null) {
                failed.incrementAndGet();
              }
              window.release();
            });
      }
      window.acquire(inflight);
      window.release(inflight);
      System.out.printf(Locale.ROOT, "loaded %d puts of %d KiB (%d MiB) in %.1f s (%d failed); leader backend %d MiB%n",
          puts, valueKb, dataMb, (System.nanoTime() - t0) / 1e9, failed.get(), leader.dbSizeBytes() >> 20);

      // A closed-loop writer to the leader for the rest of the run.
      List<long[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        long n = 0;
        while (!stop.get()) {
          long start = System.nanoTime();
          try {
            leader.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("probe/" + (n++ % 100)))
                .setValue(ByteString.copyFromUtf8("x")).build()).get(30, TimeUnit.SECONDS);
            samples.add(new long[] {start, System.nanoTime() - start});
          } catch (Exception e) {
            samples.add(new long[] {start, -1});
          }
        }
      }, "probe-writer");
      writer.start();
      long baseStart = System.nanoTime();
      Thread.sleep(baselineSeconds * 1000L);

      long addStart = System.nanoTime();
      io.kvorum.server.etcdserver.MemberAdded added = null;
      while (added == null) {
        try {
          added = leader.memberAdd(RequestContext.of("test"), List.of(urls.get("m4").toString()), true).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!String.valueOf(e.getCause().getMessage()).contains("unhealthy")) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
      learner = EtcdServer.start(config(dir, "m4", urls.get("m4"), initial + ",m4=" + urls.get("m4"),
          ServerConfig.ClusterState.EXISTING));
      long target = leader.appliedIndex();
      EtcdServer l = learner;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(limitSeconds);
      long received = 0;
      while (l.appliedIndex() < target && System.nanoTime() < deadline) {
        if (received == 0 && l.snapshotIndex() > 0) {
          received = System.nanoTime();
        }
        Thread.sleep(20);
      }
      long caughtUp = System.nanoTime();
      boolean done = l.appliedIndex() >= target;
      Thread.sleep(2000);
      stop.set(true);
      writer.join(60_000);
      System.out.printf(Locale.ROOT, "learner %s: caught up to index %d in %.2f s after member add (snapshot at %d, "
          + "learner backend %d MiB)%n", done ? "done" : "NOT done", target, (caughtUp - addStart) / 1e9,
          l.snapshotIndex(), l.dbSizeBytes() >> 20);
      LeaseStorm.report("leader puts before", samples, baseStart, addStart);
      LeaseStorm.report("leader puts during catch-up", samples, addStart, caughtUp);
      if (received > 0) {
        System.out.printf(Locale.ROOT, "snapshot stored by the learner %.2f s after member add%n", (received - addStart) / 1e9);
        LeaseStorm.report("  until the snapshot was stored", samples, addStart, received);
        LeaseStorm.report("  from then until caught up", samples, received, caughtUp);
      }
    } finally {
      if (learner != null) {
        learner.hardStop();
      }
      for (EtcdServer s : members) {
        s.hardStop();
      }
      LeaseStorm.deleteTree(dir);
    }
  }

  private static ServerConfig config(Path dir, String name, URI peer, String initial, ServerConfig.ClusterState state) {
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = name;
    b.dataDir = dir.resolve(name);
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.initialCluster = initial;
    b.initialClusterState = state;
    b.snapshotCount = 10_000;
    return b.build();
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
