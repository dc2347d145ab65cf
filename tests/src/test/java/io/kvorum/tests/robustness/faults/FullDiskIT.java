package io.kvorum.tests.robustness.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.tests.MemberProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose disk fills under a write load behaves as etcd's does: the failed WAL write stops
 * it loudly (exit status 1, the error logged), no write it did not persist is acknowledged, and
 * once the disk has room again it restarts with every acknowledged write.
 */
class FullDiskIT {
  static final long DISK_BYTES = 64L << 20;
  /** Puts tried against the full disk, at most. */
  static final int PUTS_MAX = 2_000;
  static final long LOAD_MS_MAX = 30_000;
  static final long CALL_MS = 2_000;

  @TempDir Path dir;
  MemberProcess member;
  SmallDisk disk;
  ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    try {
      if (member != null) {
        member.close();
      }
    } finally {
      if (disk != null) {
        disk.close();
      }
    }
  }

  @Test
  void fullDisk_underWrites_memberStopsLoudly_acknowledgedWritesSurviveRestart() throws Exception {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    member = new MemberProcess(MemberProcess.kvorumLauncher(), "m0", dir, client, peer,
        "m0=http://127.0.0.1:" + peer, List.of());
    disk = SmallDisk.mount(member.dataDir, DISK_BYTES);
    member.start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", client).usePlaintext().build();
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);

    Map<String, String> acked = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      putRetried(kv, "before-" + i, "v" + i);
      acked.put("before-" + i, "v" + i);
    }
    long filled = disk.fill(0);
    System.out.printf("filled %d MiB; %d bytes left%n", filled >> 20, disk.usableBytes());

    String value = "x".repeat(1024);
    int refused = 0;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOAD_MS_MAX);
    int tried = 0;
    for (; tried < PUTS_MAX && System.nanoTime() < deadline && member.process().isAlive(); tried++) {
      String key = "full-" + tried;
      try {
        put(kv, key, value);
        acked.put(key, value);
      } catch (StatusRuntimeException e) {
        refused++;
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
    }
    System.out.printf("on the full disk: %d puts tried, %d acknowledged, %d refused%n", tried,
        acked.size() - 10, refused);
    Process p = member.process();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the member stops on the failed write").isTrue();
    assertThat(p.exitValue()).as("exit status").isEqualTo(1);
    assertThat(Files.readString(member.logFile(), StandardCharsets.UTF_8))
        .contains("No space left on device").contains("member stopped: fatal error");

    disk.free();
    member.start();
    // A fresh channel: the old one backs off after its server went away.
    channel.shutdownNow();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", client).usePlaintext().build();
    kv = KVGrpc.newBlockingStub(channel);
    for (Map.Entry<String, String> e : acked.entrySet()) {
      RangeResponse r = kv.withDeadlineAfter(CALL_MS * 5, TimeUnit.MILLISECONDS)
          .range(RangeRequest.newBuilder().setKey(bytes(e.getKey())).build());
      assertThat(r.getKvsCount()).as("acknowledged %s after the restart", e.getKey()).isEqualTo(1);
      assertThat(r.getKvs(0).getValue()).isEqualTo(bytes(e.getValue()));
    }
    // And it takes writes again.
    putRetried(kv, "after", "v");
  }

  /** A put on a healthy member, tried again while it is busy starting (bounded). */
  private static void putRetried(KVGrpc.KVBlockingStub kv, String key, String value) {
    StatusRuntimeException last = null;
    for (int attempt = 0; attempt < 10; attempt++) {
      try {
        put(kv, key, value);
        return;
      } catch (StatusRuntimeException e) {
        last = e;
      }
    }
    throw last;
  }

  private static void put(KVGrpc.KVBlockingStub kv, String key, String value) {
    kv.withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS)
        .put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build());
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
