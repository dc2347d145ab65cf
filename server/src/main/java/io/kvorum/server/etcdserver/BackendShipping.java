package io.kvorum.server.etcdserver;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.kvorum.proto.serverpb.SnapshotRecord;
import io.kvorum.proto.serverpb.SnapshotRecords;
import io.kvorum.raft.Message;
import io.kvorum.server.clock.Timing;
import io.kvorum.server.mvcc.IndexRebuild;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.SnapshotLoader;
import io.kvorum.server.transport.SnapshotStreams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine's part of a raft snapshot: a member's whole backend, shipped to a member that
 * is too far behind for the log.
 *
 * <p>The sender reads every bucket in order from one RocksDB snapshot, so the leader's writes go
 * on meanwhile, and hands out {@link #CHUNK_BYTES} at a time as the transport's flow control asks.
 * The backend is at or after the raft snapshot's index: the receiver skips the entries it then
 * holds by the consistent index stored with them, as etcd's members do. The receiver writes the
 * records into SST files under {@code member/snap/<index>.kvsst} and makes them durable before raft
 * sees the snapshot message; the apply thread then swaps them into the backend. A member stopped
 * midway installs the directory again on restart (it is removed only once installed).
 *
 * <p>The receiver also rebuilds the key index from the key bucket's records as they arrive
 * ({@link IndexRebuild}), so installing the backend does not read the whole bucket back out of
 * RocksDB: on a backend of large values that read took longer than the transfer.
 */
final class BackendShipping {
  private static final Logger LOG = LoggerFactory.getLogger(BackendShipping.class);

  private final Path memberDir;
  private final Backend backend;
  /** The index rebuilt with the last backend received, until it is installed or superseded. */
  private final AtomicReference<Rebuilt> rebuilt = new AtomicReference<>();

  private record Rebuilt(long index, IndexRebuild keys) {}

  private static final String KEY_BUCKET = Schema.Bucket.KEY.diskName();

  private final Timing sends;

  /** @param sends times each backend sent to a follower, from the first chunk read to the reader's close */
  BackendShipping(Path memberDir, Backend backend, Timing sends) {
    this.memberDir = memberDir;
    this.backend = backend;
    this.sends = sends;
  }

  /** Records per snapshot chunk are added until a chunk holds this many bytes. */
  static final int CHUNK_BYTES = 1 << 20;
  private static final int SCAN_MAX = 1024;

  /** Where the backend received with the raft snapshot at {@code index} waits to be installed. */
  static Path dataDir(Path memberDir, long index) {
    return memberDir.resolve("snap").resolve(String.format(java.util.Locale.ROOT, "%016x.kvsst", index));
  }

  /**
   * Reads this member's backend for a follower that needs a snapshot: every bucket in order from
   * one RocksDB snapshot (writes go on meanwhile), {@link #CHUNK_BYTES} per chunk. The
   * backend is at or after the raft snapshot's index; the follower skips the entries it already
   * holds by the consistent index in it, as etcd's do.
   */
  SnapshotStreams.Reader read() {
    ReadView view = backend.snapshotView();
    Schema.Bucket[] buckets = Schema.Bucket.values();
    long started = sends.start();
    return new SnapshotStreams.Reader() {
      private int bucket;
      private byte[] from = new byte[0];

      @Override
      public ByteString next() {
        SnapshotRecords.Builder b = SnapshotRecords.newBuilder();
        long[] bytes = {0};
        while (bucket < buckets.length && bytes[0] < CHUNK_BYTES) {
          Schema.Bucket bk = buckets[bucket];
          byte[][] last = {null};
          long[] visited = {0};
          view.scanBulk(bk, from, (k, v) -> {
            int size = v.remaining();
            b.addRecords(SnapshotRecord.newBuilder().setBucket(bk.diskName())
                // The key is a fresh copy out of RocksDB, owned here: wrapped, not copied again.
                .setKey(UnsafeByteOperations.unsafeWrap(k))
                .setValue(ByteString.copyFrom(v)));
            last[0] = k;
            bytes[0] += k.length + size + 16;
            return ++visited[0] < SCAN_MAX && bytes[0] < CHUNK_BYTES;
          });
          if (last[0] != null) {
            from = java.util.Arrays.copyOf(last[0], last[0].length + 1);
          }
          if (visited[0] < SCAN_MAX && bytes[0] < CHUNK_BYTES) {
            bucket++;
            from = new byte[0];
          }
        }
        return b.getRecordsCount() == 0 ? null : b.build().toByteString();
      }

      @Override
      public void close() {
        view.close();
        sends.stop(started);
      }
    };
  }

  /** Tells apart the files of snapshots received at the same index (a retried send). */
  private static final java.util.concurrent.atomic.AtomicLong INCOMING = new java.util.concurrent.atomic.AtomicLong();

  /** Stores a backend arriving with a raft snapshot into SST files, durable before raft sees the message. */
  SnapshotStreams.Sink receive(Message m) throws IOException {
    long index = m.snapshot().index();
    IndexRebuild keys = new IndexRebuild();
    Path incoming = memberDir.resolve("snap")
        .resolve(String.format(java.util.Locale.ROOT, "incoming-%016x-%d.kvsst", index, INCOMING.incrementAndGet()));
    SnapshotLoader loader = new SnapshotLoader(incoming);
    return new SnapshotStreams.Sink() {
      @Override
      public void write(ByteString chunk) throws IOException {
        // Keys and values stay slices of the chunk (aliasing); the loader copies each once.
        com.google.protobuf.CodedInputStream in = chunk.newCodedInput();
        in.enableAliasing(true);
        SnapshotRecords rs = SnapshotRecords.parseFrom(in);
        for (SnapshotRecord r : rs.getRecordsList()) {
          loader.add(r.getBucket(), r.getKey().asReadOnlyByteBuffer(), r.getValue().asReadOnlyByteBuffer());
          if (r.getBucket().equals(KEY_BUCKET)) {
            keys.add(r.getKey().toByteArray(), r.getValue());
          }
        }
      }

      @Override
      public void finish() throws IOException {
        long records = loader.finish();
        loader.close();
        Path target = dataDir(memberDir, index);
        SnapshotLoader.deleteTree(target);
        Files.move(incoming, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(target.getParent(),
            java.nio.file.StandardOpenOption.READ)) {
          ch.force(true);
        }
        rebuilt.set(new Rebuilt(index, keys));
        LOG.info("received the backend for the snapshot at index {}: {} records", index, records);
      }

      @Override
      public void abort() {
        loader.close();
        try {
          SnapshotLoader.deleteTree(incoming);
        } catch (IOException e) {
          LOG.warn("cannot remove {}: {}", incoming, e.toString());
        }
      }
    };
  }


  /**
   * The key index rebuilt while receiving the backend of the snapshot at {@code index}, or null
   * (none received by this process, or a newer one since): the caller then reads the bucket.
   */
  IndexRebuild takeIndex(long index) {
    Rebuilt r = rebuilt.get();
    return r != null && r.index() == index && rebuilt.compareAndSet(r, null) ? r.keys() : null;
  }

  /** Removes received snapshot data that is installed or superseded, and unfinished transfers. */
  static void removeStale(Path memberDir, long appliedIndex) {
    Path snap = memberDir.resolve("snap");
    if (!Files.isDirectory(snap)) {
      return;
    }
    try (java.util.stream.Stream<Path> st = Files.list(snap)) {
      for (Path p : st.filter(p -> p.getFileName().toString().endsWith(".kvsst")).toList()) {
        String name = p.getFileName().toString();
        boolean stale = name.startsWith("incoming-");
        if (!stale) {
          try {
            stale = Long.parseUnsignedLong(name.substring(0, name.indexOf('.')), 16) <= appliedIndex;
          } catch (NumberFormatException e) {
            stale = true;
          }
        }
        if (stale) {
          SnapshotLoader.deleteTree(p);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot clean {}: {}", snap, e.toString());
    }
  }
}
