package io.kvorum.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.bolt.BoltWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bbolt files checked by the real bbolt: files our {@link BoltWriter} writes must pass
 * {@code etcdctl snapshot status} (which opens them with bbolt and runs {@code tx.Check()}) with
 * the hash, key count, revision and size our {@link BoltReader} computes; and files the real etcd
 * writes (a snapshot, and its live {@code member/snap/db}) must read to what etcdctl reports.
 */
class BoltFileIT {
  static final String ETCD_VERSION = "3.4.23";
  /** etcdctl runs this long at most. */
  static final long ETCDCTL_TIMEOUT_MS = 60_000;
  /** Keys put into the real etcd. */
  static final int ETCD_KEYS = 3000;
  /** Bytes of etcd's snapshot hash trailer (SHA-256). */
  static final int SNAPSHOT_HASH_BYTES = 32;

  @TempDir
  Path dir;

  static String etcd() {
    return System.getProperty("etcd.binary", "/usr/bin/etcd");
  }

  static String etcdctl() {
    return System.getProperty("etcdctl.binary", "/usr/bin/etcdctl");
  }

  @BeforeAll
  static void checkEtcd() throws Exception {
    String out = run(List.of(etcdctl(), "version"));
    if (!out.contains("etcdctl version: " + ETCD_VERSION)) {
      throw new IllegalStateException(etcdctl() + " is not etcdctl " + ETCD_VERSION + " (.ci/install-etcd): " + out);
    }
  }

  /** What {@code etcdctl snapshot status} prints. */
  record Status(long hash, long revision, long totalKey, long totalSize) {}

  private static final Pattern STATUS = Pattern.compile(
      "\\{\"hash\":(\\d+),\"revision\":(\\d+),\"totalKey\":(\\d+),\"totalSize\":(\\d+)}");

  static Status etcdctlStatus(Path file) throws Exception {
    String out = run(List.of(etcdctl(), "--write-out", "json", "snapshot", "status", file.toString()));
    Matcher m = STATUS.matcher(out);
    assertThat(m.find()).as("etcdctl snapshot status output: %s", out).isTrue();
    return new Status(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
        Long.parseLong(m.group(4)));
  }

  /** The same figures from our reader: CRC-32C over bucket names, keys and values; the last revision in {@code key}. */
  static Status readerStatus(Path file) throws IOException {
    try (BoltReader r = BoltReader.open(file)) {
      CRC32C crc = new CRC32C();
      long[] revision = {0};
      long total = 0;
      for (byte[] name : r.bucketNames()) {
        crc.update(name);
        boolean keyBucket = Arrays.equals(name, bytes("key"));
        total += r.forEach(name, (k, v) -> {
          crc.update(k);
          crc.update(v);
          if (keyBucket) {
            revision[0] = ByteBuffer.wrap(k, 0, 8).getLong();
          }
          return true;
        });
      }
      return new Status(crc.getValue(), revision[0], total, r.sizeBytes());
    }
  }

  static String run(List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(ETCDCTL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(cmd + " did not finish in " + ETCDCTL_TIMEOUT_MS + " ms");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IllegalStateException(cmd + " exited with " + p.exitValue() + ": " + text);
    }
    return text;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** etcd's revision key: main revision (big-endian), '_', sub revision (big-endian). */
  static byte[] revisionKey(long main, long sub) {
    return ByteBuffer.allocate(17).putLong(main).put((byte) '_').putLong(sub).array();
  }

  /**
   * A file in etcd's shape written by our writer: buckets in order, {@code key} with {@code keys}
   * 17-byte revision keys, values mostly small and some over several pages, and empty buckets.
   */
  static void writeEtcdShaped(Path file, int pageSize, int keys, long seed) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    try (BoltWriter w = new BoltWriter(file, pageSize)) {
      w.beginBucket(bytes("alarm"));
      w.beginBucket(bytes("auth"));
      w.put(bytes("authEnabled"), new byte[] {0});
      w.beginBucket(bytes("authRoles"));
      w.beginBucket(bytes("authUsers"));
      w.beginBucket(bytes("cluster"));
      w.put(bytes("clusterVersion"), bytes("3.4.0"));
      w.beginBucket(bytes("key"));
      for (int i = 1; i <= keys; i++) {
        int size = r.nextInt(50) == 0 ? r.nextInt(3 * pageSize) : r.nextInt(300);
        byte[] v = new byte[size];
        for (int j = 0; j < size; j++) {
          v[j] = (byte) r.nextInt(256);
        }
        w.put(revisionKey(i + 1, 0), ByteBuffer.wrap(v));
      }
      w.beginBucket(bytes("lease"));
      w.beginBucket(bytes("members"));
      w.put(bytes("8e9e05c52164694d"), bytes("{\"id\":10276657743932975437,\"peerURLs\":[\"http://localhost:2380\"]}"));
      w.beginBucket(bytes("members_removed"));
      w.beginBucket(bytes("meta"));
      w.put(bytes("consistent_index"), ByteBuffer.allocate(8).putLong(keys + 4).array());
      w.put(bytes("finishedCompactRev"), revisionKey(1, 0));
      w.finish(keys + 10);
    }
  }

  @Test
  void writtenFile_passesBboltCheckWithTheReadersStatus() throws Exception {
    int[][] cases = {{4096, 0}, {4096, 1}, {4096, 20_000}, {16384, 5000}, {1024, 3000}};
    for (int[] c : cases) {
      Path file = dir.resolve("written-" + c[0] + "-" + c[1] + ".db");
      writeEtcdShaped(file, c[0], c[1], c[1]);
      Status ours = readerStatus(file);
      assertThat(etcdctlStatus(file)).as("page size %d, %d keys", c[0], c[1]).isEqualTo(ours);
      assertThat(ours.totalKey()).isEqualTo(c[1] + 5);
      assertThat(ours.revision()).isEqualTo(c[1] == 0 ? 0 : c[1] + 1);
    }
  }

  @Test
  void writtenFile_withDeepTreeAndHugeValues_passesBboltCheck() throws Exception {
    // Keys near bbolt's largest make every branch page hold a couple of keys: many branch levels.
    Path file = dir.resolve("deep.db");
    SplittableRandom r = new SplittableRandom(5);
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(bytes("big"));
      for (int i = 0; i < 200; i++) {
        byte[] k = new byte[2000 + r.nextInt(20_000)];
        ByteBuffer.wrap(k).putInt(i);
        byte[] v = new byte[i % 17 == 0 ? 1 << 20 : r.nextInt(100)];
        w.put(k, v);
      }
      w.beginBucket(bytes("key"));
      w.put(revisionKey(9, 0), new byte[0]);
      w.finish(3);
    }
    assertThat(etcdctlStatus(file)).isEqualTo(readerStatus(file));
  }

  @Test
  void realEtcdFiles_readAsEtcdctlReportsThem() throws Exception {
    int client = MemberProcess.freePort();
    int peer = MemberProcess.freePort();
    MemberProcess etcd = new MemberProcess(etcd(), "m0", dir, client, peer, "m0=http://127.0.0.1:" + peer, List.of());
    Path snapshot = dir.resolve("snapshot.db");
    try {
      etcd.start();
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", client).usePlaintext().build();
      try {
        KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS);
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < ETCD_KEYS; i++) {
          byte[] v = new byte[i % 100 == 0 ? 4097 + r.nextInt(20_000) : r.nextInt(200)];
          for (int j = 0; j < v.length; j++) {
            v[j] = (byte) r.nextInt(256);
          }
          kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k/" + (i % 2500)))
              .setValue(ByteString.copyFrom(v)).build());
        }
        kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k/1")).build());
      } finally {
        ch.shutdownNow();
      }
      run(List.of(etcdctl(), "--endpoints", etcd.clientUrl(), "snapshot", "save", snapshot.toString()));
    } finally {
      etcd.close();
    }

    // The saved file is the database followed by its SHA-256.
    Path stripped = dir.resolve("stripped.db");
    byte[] all = Files.readAllBytes(snapshot);
    byte[] db = Arrays.copyOf(all, all.length - SNAPSHOT_HASH_BYTES);
    assertThat(Arrays.copyOfRange(all, db.length, all.length)).isEqualTo(sha256(db));
    Files.write(stripped, db);

    Status ours = readerStatus(stripped);
    assertThat(etcdctlStatus(stripped)).isEqualTo(ours);
    assertThat(etcdctlStatus(snapshot)).isEqualTo(ours);
    assertThat(ours.revision()).isEqualTo(ETCD_KEYS + 2);
    try (BoltReader r = BoltReader.open(stripped)) {
      assertThat(r.bucketNames()).contains(bytes("key"), bytes("meta"), bytes("members"));
    }

    // The live database, after etcd stopped.
    Path live = etcd.dataDir.resolve("member/snap/db");
    assertThat(etcdctlStatus(live)).isEqualTo(readerStatus(live));

    // And the real snapshot, rewritten by our writer, again passes bbolt with the same figures.
    Path rewritten = dir.resolve("rewritten.db");
    try (BoltReader r = BoltReader.open(stripped); BoltWriter w = new BoltWriter(rewritten)) {
      for (byte[] name : r.bucketNames()) {
        w.beginBucket(name);
        r.forEach(name, (k, v) -> {
          w.put(k, v);
          return true;
        });
      }
      w.finish(r.txid());
    }
    Status again = etcdctlStatus(rewritten);
    assertThat(again.hash()).isEqualTo(ours.hash());
    assertThat(again.totalKey()).isEqualTo(ours.totalKey());
    assertThat(again.revision()).isEqualTo(ours.revision());
    assertThat(again).isEqualTo(readerStatus(rewritten));

    // etcdctl restores it (hash appended as snapshot save does) into a data dir.
    try (FileChannel f = FileChannel.open(rewritten, StandardOpenOption.APPEND)) {
      f.write(ByteBuffer.wrap(sha256(Files.readAllBytes(rewritten))));
    }
    Path restored = dir.resolve("restored.etcd");
    run(List.of(etcdctl(), "snapshot", "restore", rewritten.toString(), "--data-dir", restored.toString(),
        "--name", "r0", "--initial-cluster", "r0=http://127.0.0.1:" + peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer));
    Status afterRestore = readerStatus(restored.resolve("member/snap/db"));
    assertThat(etcdctlStatus(restored.resolve("member/snap/db"))).isEqualTo(afterRestore);
    assertThat(afterRestore.revision()).isEqualTo(ours.revision());
  }

  static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
