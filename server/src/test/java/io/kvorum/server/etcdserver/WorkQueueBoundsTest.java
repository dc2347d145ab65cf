package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddResponse;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.auth.Tokens;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.snapshot.SnapshotStream;
import io.kvorum.server.storage.Backend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The member's two work queues filled while their threads are held busy: snapshot exports
 * ({@link SnapshotExports#WAITING_MAX}) and bcrypt work ({@link AuthRequests#BCRYPT_QUEUE_MAX});
 * one request beyond gets etcd's {@code too many requests} at once.
 */
class WorkQueueBoundsTest {
  static final long WAIT_SECONDS = 60;
  @TempDir Path dir;

  /** Threads that start their first task only once the gate opens (and never if interrupted first). */
  static final class HeldThreads implements ThreadFactory {
    final CountDownLatch gate = new CountDownLatch(1);
    int made;

    @Override
    public synchronized Thread newThread(Runnable work) {
      made++;
      Thread t = new Thread(() -> {
        try {
          if (gate.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            work.run();
          }
        } catch (InterruptedException e) {
          // The pool stopped before the gate opened.
        }
      }, "held-" + made);
      t.setDaemon(true);
      return t;
    }
  }

  private static EtcdError refusal(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.join();
      throw new AssertionError("not failed");
    } catch (CompletionException e) {
      return ((EtcdException) Proposer.cause(e)).error();
    }
  }

  @Test
  void export_threadBusyAndWaitingMaxWaiting_refusesTheNextWithTooManyRequests() throws Exception {
    HeldThreads threads = new HeldThreads();
    try (Backend backend = Backend.open(dir.resolve("db"))) {
      KvStore kv = KvStore.open(backend);
      SnapshotExports exports = new SnapshotExports(backend, new FakeClock(), dir.resolve("member"), threads);
      try {
        List<CompletableFuture<SnapshotStream>> accepted = new ArrayList<>();
        for (int i = 0; i < 1 + SnapshotExports.WAITING_MAX; i++) {
          accepted.add(exports.export());
        }
        assertThat(accepted).noneMatch(CompletableFuture::isDone);
        CompletableFuture<SnapshotStream> refused = exports.export();
        assertThat(refusal(refused)).isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
        assertThat(EtcdError.REQUEST_TOO_MANY_REQUESTS.message()).isEqualTo("etcdserver: too many requests");
        assertThat(threads.made).isEqualTo(1);

        // Released: every accepted request gets its snapshot, one after the other.
        threads.gate.countDown();
        for (CompletableFuture<SnapshotStream> f : accepted) {
          try (SnapshotStream s = f.get(WAIT_SECONDS, TimeUnit.SECONDS)) {
            assertThat(s.sizeBytes()).isPositive();
          }
        }
        try (SnapshotStream s = exports.export().get(WAIT_SECONDS, TimeUnit.SECONDS)) {
          assertThat(s.sizeBytes()).isPositive();
        }
      } finally {
        exports.close();
        kv.close();
      }
    }
  }

  @Test
  void userAdd_bcryptThreadsBusyAndQueueFull_refusesTheNextWithTooManyRequests() {
    HeldThreads threads = new HeldThreads();
    FakeClock clock = new FakeClock();
    try (Backend backend = Backend.open(dir.resolve("db"))) {
      AuthStore store = new AuthStore(backend, Tokens.fromFlag("simple", Duration.ofMinutes(5), clock));
      // No proposer: nothing here gets past bcrypt, which is held until the pool stops.
      AuthRequests auth = new AuthRequests(store, new Passwords(Passwords.MIN_COST), null, () -> 0, false, threads);
      try {
        List<CompletableFuture<AuthUserAddResponse>> waiting = new ArrayList<>();
        for (int i = 0; i < AuthRequests.BCRYPT_THREADS + AuthRequests.BCRYPT_QUEUE_MAX; i++) {
          waiting.add(auth.userAdd(RequestContext.of("test"), user(i)));
        }
        assertThat(waiting).noneMatch(CompletableFuture::isDone);
        assertThat(threads.made).isEqualTo(AuthRequests.BCRYPT_THREADS);
        assertThat(refusal(auth.userAdd(RequestContext.of("test"), user(-1))))
            .isEqualTo(EtcdError.REQUEST_TOO_MANY_REQUESTS);
      } finally {
        auth.close();
      }
    }
  }

  private static AuthUserAddRequest user(int i) {
    return AuthUserAddRequest.newBuilder().setName("u" + i).setPassword("secret").build();
  }
}
