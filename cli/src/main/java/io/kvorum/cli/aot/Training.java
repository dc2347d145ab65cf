package io.kvorum.cli.aot;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.kvorum.cli.EtcdFlags;
import io.kvorum.server.api.ClientServer;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs three in-process members, then one, on loopback and drives each for a few seconds with the
 * requests an etcd client sends most (puts one at a time and many at once, ranges, large ranges,
 * compare-and-swap txns, watches, leases), through the leader and the followers; then adds a
 * learner to a member whose log is compacted, so that it catches up by a snapshot (the path of a
 * member replacing a failed one, which must be quick from its first second too). A JVM started
 * with {@code -XX:AOTCacheOutput} on this program records the classes it loaded and the profiles
 * of the methods it ran; a member started with that cache compiles its request path from the
 * first second instead of while it serves (docs/performance.md). Nothing here is a server path.
 *
 * <p>Usage: {@code Training [seconds per topology]} (default 12; {@code bin/kvorum-aot} passes 100).
 */
public final class Training {
  private static final ByteString VALUE = ByteString.copyFrom(new byte[256]);
  private static final ByteString BIG_VALUE = ByteString.copyFrom(new byte[1024]);

  /** etcd 3.4's default {@code --snapshot-count}. */
  private static final long DEFAULT_SNAPSHOT_COUNT = 100_000;

  private Training() {}

  public static void main(String[] args) throws Exception {
    train(args.length > 0 ? Long.parseLong(args[0]) : 12);
    // Normal exit: the JVM writes its AOT cache only when it exits this way.
    System.exit(0);
  }

  /** Three members for {@code seconds} of load, then one for half as long; throws on any failed request. */
  public static void train(long seconds) throws Exception {
    Path dir = Files.createTempDirectory("kvorum-training");
    try {
      run(dir.resolve("three"), 3, seconds);
      run(dir.resolve("one"), 1, Math.max(1, seconds / 2));
      learnerBySnapshot(dir.resolve("learner"));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(Path dir, int size, long seconds) throws Exception {
    int[] clientPorts = freePorts(size);
    int[] peerPorts = freePorts(size);
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < size; i++) {
      initial.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(peerPorts[i]);
    }
    List<AutoCloseable> open = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        member(dir, i, clientPorts, peerPorts, initial.toString(), "new", DEFAULT_SNAPSHOT_COUNT, open);
      }
      List<ManagedChannel> channels = new ArrayList<>();
      for (int port : clientPorts) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        channels.add(ch);
        open.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
      }
      awaitReady(channels);
      drive(channels, TimeUnit.SECONDS.toNanos(seconds));
    } finally {
      closeAll(open);
    }
  }

  private static void closeAll(List<AutoCloseable> open) throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Puts of 16 KiB between snapshots every 500 entries, then a learner that needs a snapshot. */
  private static void learnerBySnapshot(Path dir) throws Exception {
    int[] clientPorts = freePorts(2);
    int[] peerPorts = freePorts(2);
    String cluster = "m0=http://127.0.0.1:" + peerPorts[0];
    List<AutoCloseable> open = new ArrayList<>();
    try {
      EtcdServer leader = member(dir, 0, clientPorts, peerPorts, cluster, "new", 500, open);
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", clientPorts[0]).usePlaintext().build();
      open.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
      awaitReady(List.of(ch));
      // Past the 5,000 entries a leader keeps behind its newest snapshot, so the learner gets one.
      Semaphore inFlight = new Semaphore(32);
      AtomicLong failures = new AtomicLong();
      ByteString value = ByteString.copyFrom(new byte[16 * 1024]);
      for (int i = 0; i < 6_000; i++) {
        inFlight.acquire();
        KVGrpc.newStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).put(PutRequest.newBuilder()
            .setKey(bytes("training/big/" + (i % 2_000))).setValue(value).build(), releasing(inFlight, failures));
      }
      inFlight.acquire(32);
      if (failures.get() > 0) {
        throw new IllegalStateException(failures.get() + " puts of 16 KiB failed");
      }
      String peer = "http://127.0.0.1:" + peerPorts[1];
      leader.memberAdd(RequestContext.of("training"), List.of(peer), true).get(10, TimeUnit.SECONDS);
      long target = leader.appliedIndex();
      EtcdServer learner = member(dir, 1, clientPorts, peerPorts, cluster + ",m1=" + peer, "existing", 500, open);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (learner.appliedIndex() < target) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the learner did not catch up in 60 s");
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
      if (learner.snapshotIndex() == 0) {
        throw new IllegalStateException("the learner caught up without a snapshot");
      }
    } finally {
      closeAll(open);
    }
  }

  /** Starts member {@code i} with its client edge; both are added to {@code open}. */
  private static EtcdServer member(Path dir, int i, int[] clientPorts, int[] peerPorts, String cluster, String state,
      long snapshotCount, List<AutoCloseable> open) throws Exception {
    String client = "http://127.0.0.1:" + clientPorts[i];
    String peer = "http://127.0.0.1:" + peerPorts[i];
    var cfg = EtcdFlags.toConfig(EtcdFlags.parse(new String[] {
        "--name", "m" + i, "--data-dir", dir.resolve("m" + i).toString(),
        "--snapshot-count", Long.toString(snapshotCount),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", cluster, "--initial-cluster-state", state,
        "--initial-cluster-token", "training"}, Map.of()));
    EtcdServer server = EtcdServer.start(cfg);
    open.add(server);
    ClientServer edge = ClientServer.start(server, cfg.listenClientUrls);
    open.add(edge);
    server.publish(List.of(URI.create(client)));
    return server;
  }

  private static void awaitReady(List<ManagedChannel> channels) throws InterruptedException {
    for (ManagedChannel ch : channels) {
      for (int attempt = 0; ; attempt++) {
        try {
          KVGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
              .put(PutRequest.newBuilder().setKey(bytes("training/ready")).setValue(VALUE).build());
          break;
        } catch (RuntimeException e) {
          if (attempt == 100) {
            throw e;
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
      }
    }
  }

  /** Runs the mix in parallel until {@code nanos} have passed. */
  private static void drive(List<ManagedChannel> channels, long nanos) throws Exception {
    long end = System.nanoTime() + nanos;
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      jobs.add(pool.submit(() -> sequentialPuts(channels, end)));
      jobs.add(pool.submit(() -> concurrentPuts(channels, end)));
      jobs.add(pool.submit(() -> ranges(channels, end)));
      jobs.add(pool.submit(() -> casTxns(channels, end)));
      jobs.add(pool.submit(() -> watches(channels, end)));
      jobs.add(pool.submit(() -> leases(channels, end)));
      for (Future<?> job : jobs) {
        job.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Void sequentialPuts(List<ManagedChannel> channels, long end) {
    long i = 0;
    while (System.nanoTime() < end) {
      var kv = KVGrpc.newBlockingStub(channels.get((int) (i / 500 % channels.size())));
      kv.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
          .setKey(bytes("training/seq/" + (i % 5000))).setValue(VALUE).build());
      i++;
    }
    return null;
  }

  private static Void concurrentPuts(List<ManagedChannel> channels, long end) throws InterruptedException {
    Semaphore inFlight = new Semaphore(48);
    AtomicLong failures = new AtomicLong();
    long i = 0;
    while (System.nanoTime() < end) {
      inFlight.acquire();
      var kv = KVGrpc.newStub(channels.get((int) (i % channels.size())));
      kv.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
          .setKey(bytes("training/rand/" + (i * 7919 % 100_000))).setValue(VALUE).setPrevKv(i % 10 == 0).build(),
          releasing(inFlight, failures));
      i++;
    }
    inFlight.acquire(48);
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " concurrent puts failed");
    }
    return null;
  }

  /** Answers of puts in flight: each gives its permit back; a failed one is counted. */
  private static StreamObserver<PutResponse> releasing(Semaphore inFlight, AtomicLong failures) {
    return new StreamObserver<>() {
      @Override
      public void onNext(PutResponse value) {}

      @Override
      public void onError(Throwable t) {
        failures.incrementAndGet();
        inFlight.release();
      }

      @Override
      public void onCompleted() {
        inFlight.release();
      }
    };
  }

  private static Void ranges(List<ManagedChannel> channels, long end) {
    var kv0 = KVGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(30, TimeUnit.SECONDS);
    for (int k = 0; k < 1000; k++) {
      kv0.put(PutRequest.newBuilder().setKey(bytes(String.format("training/large/%04d", k))).setValue(BIG_VALUE).build());
    }
    long i = 0;
    while (System.nanoTime() < end) {
      var kv = KVGrpc.newBlockingStub(channels.get((int) (i % channels.size()))).withDeadlineAfter(5, TimeUnit.SECONDS);
      boolean serializable = i % 2 == 0;
      kv.range(RangeRequest.newBuilder().setKey(bytes("training/ready")).setSerializable(serializable).build());
      if (i % 50 == 0) {
        kv.range(RangeRequest.newBuilder().setKey(bytes("training/large/"))
            .setRangeEnd(bytes("training/large0")).setSerializable(serializable).build());
        kv.range(RangeRequest.newBuilder().setKey(bytes("training/large/")).setRangeEnd(bytes("training/large0"))
            .setKeysOnly(true).setLimit(100).setSortOrder(RangeRequest.SortOrder.DESCEND).build());
        kv.range(RangeRequest.newBuilder().setKey(bytes("training/")).setRangeEnd(bytes("training0"))
            .setCountOnly(true).build());
        MaintenanceGrpc.newBlockingStub(channels.get((int) (i % channels.size())))
            .withDeadlineAfter(5, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
        ClusterGrpc.newBlockingStub(channels.get((int) (i % channels.size())))
            .withDeadlineAfter(5, TimeUnit.SECONDS).memberList(MemberListRequest.getDefaultInstance());
      }
      i++;
    }
    return null;
  }

  /** Kubernetes' update: read the key, then put it if its mod revision is still the one read. */
  private static Void casTxns(List<ManagedChannel> channels, long end) {
    long i = 0;
    while (System.nanoTime() < end) {
      var kv = KVGrpc.newBlockingStub(channels.get((int) (i % channels.size()))).withDeadlineAfter(5, TimeUnit.SECONDS);
      ByteString key = bytes("training/cas/" + (i % 100));
      RangeResponse got = kv.range(RangeRequest.newBuilder().setKey(key).build());
      long rev = got.getKvsCount() == 0 ? 0 : got.getKvs(0).getModRevision();
      kv.txn(TxnRequest.newBuilder()
          .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.MOD)
              .setResult(Compare.CompareResult.EQUAL).setModRevision(rev))
          .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(BIG_VALUE)))
          .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
          .build());
      i++;
    }
    return null;
  }

  /** Twenty watchers on one prefix over two streams, and puts under it. */
  private static Void watches(List<ManagedChannel> channels, long end) throws InterruptedException {
    List<StreamObserver<WatchRequest>> streams = new ArrayList<>();
    CountDownLatch closed = new CountDownLatch(2);
    AtomicLong events = new AtomicLong();
    for (int s = 0; s < 2; s++) {
      StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channels.get(s % channels.size())).watch(
          new StreamObserver<WatchResponse>() {
            @Override
            public void onNext(WatchResponse value) {
              events.addAndGet(value.getEventsCount());
            }

            @Override
            public void onError(Throwable t) {
              closed.countDown();
            }

            @Override
            public void onCompleted() {
              closed.countDown();
            }
          });
      for (int w = 0; w < 10; w++) {
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(bytes("training/watched/")).setRangeEnd(bytes("training/watched0"))
            .setPrevKv(w % 2 == 0).setProgressNotify(w == 0)).build());
      }
      streams.add(requests);
    }
    var kv = KVGrpc.newBlockingStub(channels.get(channels.size() - 1));
    long i = 0;
    while (System.nanoTime() < end) {
      kv.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
          .setKey(bytes("training/watched/" + (i % 100))).setValue(VALUE).build());
      i++;
    }
    for (StreamObserver<WatchRequest> requests : streams) {
      requests.onCompleted();
    }
    closed.await(5, TimeUnit.SECONDS);
    if (i > 0 && events.get() == 0) {
      throw new IllegalStateException("no watch event for " + i + " puts under the watched prefix");
    }
    return null;
  }

  /** Grant, put with the lease, one keep-alive, revoke. */
  private static Void leases(List<ManagedChannel> channels, long end) throws InterruptedException {
    long i = 0;
    while (System.nanoTime() < end) {
      ManagedChannel ch = channels.get((int) (i % channels.size()));
      var lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS);
      long id = lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(30).build()).getID();
      KVGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
          .setKey(bytes("training/lease/" + (i % 100))).setValue(VALUE).setLease(id).build());
      CountDownLatch answered = new CountDownLatch(1);
      StreamObserver<LeaseKeepAliveRequest> keepAlive = LeaseGrpc.newStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
          .leaseKeepAlive(new StreamObserver<LeaseKeepAliveResponse>() {
            @Override
            public void onNext(LeaseKeepAliveResponse value) {
              answered.countDown();
            }

            @Override
            public void onError(Throwable t) {
              answered.countDown();
            }

            @Override
            public void onCompleted() {
              answered.countDown();
            }
          });
      keepAlive.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
      answered.await(5, TimeUnit.SECONDS);
      keepAlive.onCompleted();
      lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
      i++;
    }
    return null;
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  private static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }
}
