package io.kvorum.server.mvcc;

import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Physical compaction: deletes from the backend the revisions a compaction made obsolete, in
 * batches of at most {@link KvStoreConfig#compactionBatchRevisionsMax} revisions, oldest first,
 * one executor task per batch. Compactions run one after another in the order accepted; the last
 * batch of each writes its finished mark atomically with its deletions. At most {@link #JOBS_MAX}
 * wait: one that has not started yet is superseded by a newer one, which deletes everything it
 * would have deleted (a revision not kept at a compaction is not kept at any later one), and
 * completes when that newer one does.
 *
 * <p>Runs beside the writer without coordination: it deletes only revisions at or below a
 * compaction revision that are not kept, which no reader can ask for and no writer touches.
 */
final class Compactor {
  private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
  /** The compaction in progress and the one after it; a third supersedes the second. */
  static final int JOBS_MAX = 2;

  private final KvStore store;
  private final Backend backend;
  private final Executor executor;
  private final ArrayDeque<Job> jobs = new ArrayDeque<>();
  /** Held while a batch runs, so {@link #stop} can wait for the one in flight. */
  private final ReentrantLock running = new ReentrantLock();
  private boolean taskQueued;
  private CompletableFuture<Void> lastDone = CompletableFuture.completedFuture(null);

  Compactor(KvStore store, Backend backend, Executor executor) {
    this.store = store;
    this.backend = backend;
    this.executor = executor;
  }

  /** Queues the physical part of the compaction at {@code rev} that keeps {@code keep}. */
  CompletableFuture<Void> enqueue(long rev, RevisionSet keep) {
    Job job = new Job(rev, keep);
    Job superseded = null;
    boolean submit;
    synchronized (this) {
      if (jobs.size() >= JOBS_MAX) {
        superseded = jobs.pollLast(); // not started: only the head has run batches
      }
      jobs.add(job);
      lastDone = job.done;
      submit = !taskQueued;
      taskQueued = true;
    }
    if (superseded != null) {
      CompletableFuture<Void> older = superseded.done;
      job.done.whenComplete((v, e) -> {
        if (e == null) {
          older.complete(null);
        } else {
          older.completeExceptionally(e);
        }
      });
    }
    if (submit) {
      submit();
    }
    return job.done;
  }

  /** Queues a compaction found scheduled but unfinished when the store opened (etcd logs it too). */
  void resume(long rev, RevisionSet keep) {
    LOG.info("resume scheduled compaction at {}", rev);
    enqueue(rev, keep);
  }

  synchronized int queued() {
    return jobs.size();
  }

  synchronized CompletableFuture<Void> lastDone() {
    return lastDone;
  }

  private void submit() {
    try {
      executor.execute(this::step);
    } catch (RejectedExecutionException e) {
      abandon();
    }
  }

  /** One batch of the oldest queued compaction. */
  private void step() {
    Job job;
    synchronized (this) {
      job = jobs.peek();
      if (job == null) {
        taskQueued = false;
        return;
      }
    }
    boolean finished;
    running.lock();
    try {
      if (store.isClosed()) {
        abandon();
        return;
      }
      finished = job.runBatch();
    } catch (RuntimeException e) {
      store.fail(e);
      abandon();
      return;
    } finally {
      running.unlock();
    }
    boolean more;
    synchronized (this) {
      if (jobs.peek() != job) {
        return; // abandoned meanwhile
      }
      if (finished) {
        jobs.poll();
      }
      more = !jobs.isEmpty();
      taskQueued = more;
    }
    if (finished) {
      LOG.info("finished scheduled compaction at {} ({} revisions deleted)", job.rev, job.deleted);
      job.done.complete(null);
    }
    if (more) {
      submit();
    }
  }

  /**
   * Waits for the batch in flight, if any, then abandons the rest. The store must already be
   * closed, so no batch starts afterwards and the backend can be closed safely.
   */
  void stop() {
    running.lock();
    try {
      abandon();
    } finally {
      running.unlock();
    }
  }

  /** Fails every queued compaction; the persisted scheduled mark resumes the newest on open. */
  private void abandon() {
    List<Job> dropped;
    synchronized (this) {
      dropped = new ArrayList<>(jobs);
      jobs.clear();
      taskQueued = false;
    }
    for (Job j : dropped) {
      j.done.completeExceptionally(new StoreClosedException());
    }
  }

  private final class Job {
    final long rev;
    final RevisionSet keep;
    final byte[] end;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    byte[] next = new byte[0];
    long deleted;

    Job(long rev, RevisionSet keep) {
      this.rev = rev;
      this.keep = keep;
      this.end = new Revision(rev + 1, 0).toKey();
    }

    /** Deletes one batch; returns true when this compaction is finished. */
    boolean runBatch() {
      int max = store.config().compactionBatchRevisionsMax();
      List<byte[]> scanned = new ArrayList<>();
      try (ReadView view = backend.liveView()) {
        view.scanKeys(Bucket.KEY, next, end, max, k -> scanned.add(k));
      }
      boolean finished = scanned.size() < max;
      int deleted = 0;
      try (Batch b = backend.newBatch()) {
        for (byte[] k : scanned) {
          if (!keep.contains(Revision.fromKey(k))) {
            b.delete(Bucket.KEY, k);
            deleted++;
          }
        }
        if (finished) {
          b.put(Bucket.COMPACTION, Schema.compactionFinishedKey(), Schema.longBytes(rev));
        }
        Failpoints.hit(Failpoint.COMPACT_MID);
        backend.commit(b);
      }
      store.observer().compacted(deleted);
      this.deleted += deleted;
      if (!finished) {
        next = Revision.fromKey(scanned.get(scanned.size() - 1)).nextSub().toKey();
      }
      return finished;
    }
  }
}
