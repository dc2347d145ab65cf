package io.kvorum.server.etcdserver;

import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.snapshot.SnapshotExporter;
import io.kvorum.server.snapshot.SnapshotStream;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's {@code Maintenance.Snapshot} on this member: the backend, read at one point in time while
 * writes go on, is written in etcd's format ({@link SnapshotExporter}) to a file under {@code
 * member/export}, which the stream then sends and deletes. Files are written one at a time on a
 * thread of their own; at most {@link #WAITING_MAX} more requests wait, and one beyond gets etcd's
 * {@code too many requests}. Files a stopped member left behind are removed when it starts.
 */
final class SnapshotExports implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotExports.class);
  /** Snapshot requests waiting while one file is written. */
  static final int WAITING_MAX = 8;

  private final Backend backend;
  private final Clock clock;
  private final Path dir;
  private final ThreadPoolExecutor thread;
  private final AtomicLong seq = new AtomicLong();

  SnapshotExports(Backend backend, Clock clock, Path memberDir, String memberName) {
    this(backend, clock, memberDir, r -> {
      Thread t = new Thread(r, "kvorum-snapshot-" + memberName);
      t.setDaemon(true);
      return t;
    });
  }

  /** As above, with the export thread made by {@code threads} (a test holds it to fill the queue). */
  SnapshotExports(Backend backend, Clock clock, Path memberDir, ThreadFactory threads) {
    this.backend = backend;
    this.clock = clock;
    this.dir = memberDir.resolve("export");
    try {
      SnapshotLoader.deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot remove the snapshot files a stopped member left in {}: {}", dir, e.toString());
    }
    this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(WAITING_MAX), threads);
  }

  /** Writes the file of a new snapshot; the caller streams and closes it. */
  CompletableFuture<SnapshotStream> export() {
    CompletableFuture<SnapshotStream> f = new CompletableFuture<>();
    try {
      thread.execute(() -> {
        Path file = dir.resolve("snapshot-" + seq.incrementAndGet() + ".db");
        try (ReadView view = backend.snapshotView()) {
          Files.createDirectories(dir);
          long start = clock.nanos();
          SnapshotExporter.Exported e = SnapshotExporter.write(view, file);
          LOG.info("wrote database snapshot for a client: {} bytes, {} records, revision {}, consistent index {}"
              + " (took {} ms)", e.sizeBytes(), e.records(), e.revision(), e.consistentIndex().index(),
              TimeUnit.NANOSECONDS.toMillis(clock.nanos() - start));
          f.complete(new SnapshotStream(e));
        } catch (IOException | RuntimeException e) {
          LOG.warn("failed to write a database snapshot: {}", e.toString());
          try {
            Files.deleteIfExists(file);
          } catch (IOException ignored) {
            // reported above; removed at the next start
          }
          f.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(EtcdError.REQUEST_TOO_MANY_REQUESTS.exception());
    }
    return f;
  }

  @Override
  public void close() {
    thread.shutdown();
  }
}
