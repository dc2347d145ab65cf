package io.kvorum.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members as real processes, killed with SIGKILL in the middle of a write load and restarted on
 * the same data dir: every write that was acknowledged must still be there.
 */
class CrashRestartIT {
  static final int KEYS = 400;
  static final int WRITERS = 8;

  @TempDir Path dir;
  final List<MemberProcess> members = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (MemberProcess m : members) {
      m.close();
    }
  }

  private List<MemberProcess> cluster(int n) throws Exception {
    List<int[]> ports = new ArrayList<>();
    StringBuilder ic = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int[] p = {MemberProcess.freePort(), MemberProcess.freePort()};
      ports.add(p);
      ic.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(p[1]);
    }
    List<MemberProcess> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new MemberProcess(MemberProcess.kvorumLauncher(), "m" + i, dir, ports.get(i)[0], ports.get(i)[1],
          ic.toString(), List.of("--initial-cluster-token", "it", "--heartbeat-interval", "50", "--election-timeout", "500")));
    }
    members.addAll(out);
    MemberProcess.startTogether(out);
    return out;
  }

  private KVGrpc.KVBlockingStub kv(MemberProcess m) {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", m.clientPort).usePlaintext().build();
    channels.add(ch);
    return KVGrpc.newBlockingStub(ch);
  }

  /** Puts keys from several writers against the members; records what was acknowledged. */
  private Set<String> load(List<MemberProcess> targets, AtomicBoolean stop) throws Exception {
    Set<String> acked = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    List<Future<?>> fs = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      int writer = w;
      fs.add(pool.submit(() -> {
        List<KVGrpc.KVBlockingStub> stubs = new ArrayList<>();
        for (MemberProcess m : targets) {
          stubs.add(kv(m));
        }
        for (int i = writer; i < KEYS && !stop.get(); i += WRITERS) {
          String k = "key-" + i;
          for (int attempt = 0; attempt < 3 && !stop.get(); attempt++) {
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
    pool.shutdown();
    for (Future<?> f : fs) {
      f.get(5, TimeUnit.MINUTES);
    }
    return acked;
  }

  /** A linearizable read of every key, retried while the member is electing, bounded. */
  private Set<String> keysOn(MemberProcess m) {
    KVGrpc.KVBlockingStub stub = kv(m);
    StatusRuntimeException last = null;
    for (int attempt = 0; attempt < 200; attempt++) {
      try {
        RangeResponse r = stub.withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("key-")).setRangeEnd(ByteString.copyFromUtf8("key.")).build());
        Set<String> keys = new HashSet<>();
        r.getKvsList().forEach(kv -> keys.add(kv.getKey().toStringUtf8()));
        return keys;
      } catch (StatusRuntimeException e) {
        last = e;
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    throw last;
  }

  @Test
  void sigkill_singleMemberMidLoad_restartKeepsEveryAcknowledgedWrite() throws Exception {
    MemberProcess m = cluster(1).get(0);
    AtomicBoolean stop = new AtomicBoolean();
    Thread killer = new Thread(() -> {
      // Kill once a good part of the load is through, while writers are still busy.
      while (keysOnQuietly(m) < KEYS / 3) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
      try {
        m.kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stop.set(true);
    });
    killer.start();
    Set<String> acked = load(List.of(m), stop);
    killer.join();
    // The killer saw at least KEYS / 3 keys applied; each writer has at most one put in flight,
    // whose answer the kill may have cut off, so at most WRITERS of those were never acknowledged.
    assertThat(acked).hasSizeGreaterThanOrEqualTo(KEYS / 3 - WRITERS);
    m.start();
    assertThat(keysOn(m)).containsAll(acked);
  }

  private int keysOnQuietly(MemberProcess m) {
    try {
      return kv(m).withDeadlineAfter(2, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("key-")).setRangeEnd(ByteString.copyFromUtf8("key."))
          .setCountOnly(true).setSerializable(true).build()).getCount() > 0
          ? (int) kv(m).withDeadlineAfter(2, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
              .setKey(ByteString.copyFromUtf8("key-")).setRangeEnd(ByteString.copyFromUtf8("key."))
              .setCountOnly(true).setSerializable(true).build()).getCount()
          : 0;
    } catch (StatusRuntimeException e) {
      return 0;
    }
  }

  @Test
  void sigkill_leaderOfThreeMidLoad_noAcknowledgedWriteLostAndMembersAgree() throws Exception {
    List<MemberProcess> ms = cluster(3);
    AtomicBoolean stop = new AtomicBoolean();
    MemberProcess victim = ms.get(0);
    Thread killer = new Thread(() -> {
      while (keysOnQuietly(ms.get(1)) < KEYS / 4) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
      try {
        victim.kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    killer.start();
    Set<String> acked = load(ms, stop);
    killer.join();
    victim.start();
    for (MemberProcess m : ms) {
      assertThat(keysOn(m)).as(m.name).containsAll(acked);
    }
    // Same data, same revision, same hash on every member once they have caught up.
    List<Long> hashes = new ArrayList<>();
    long rev = kv(ms.get(1)).range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("key-0")).build())
        .getHeader().getRevision();
    for (MemberProcess m : ms) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", m.clientPort).usePlaintext().build();
      channels.add(ch);
      hashes.add((long) MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .hashKV(HashKVRequest.newBuilder().setRevision(rev).build()).getHash());
    }
    assertThat(new HashSet<>(hashes)).hasSize(1);
  }
}
