package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.server.errors.EtcdError;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's {@code waitDeletes} ({@code clientv3/concurrency/key.go}): waits until no key under a
 * prefix was created at or before a revision — the candidates (or lock waiters) ahead of the
 * caller. It looks up the newest such key, watches it from the revision it was seen at until it is
 * deleted, and looks again; once none is left it completes with the last look's header.
 *
 * <p>Each turn waits for a deletion, so there are at most as many turns as keys were ahead. At most
 * one watch is open at a time; cancelling the returned future closes it at once (a look still in
 * flight is ignored when it returns).
 */
final class DeletionWait {
  private final MemberClient client;
  private final ByteString prefix;
  private final long maxCreateRev;
  private final CompletableFuture<ResponseHeader> done = new CompletableFuture<>();
  /** The watch of the current turn (guarded by this). */
  private KeyWatch watch;

  private DeletionWait(MemberClient client, ByteString prefix, long maxCreateRev) {
    this.client = client;
    this.prefix = prefix;
    this.maxCreateRev = maxCreateRev;
  }

  /** Waits until no key under {@code prefix} has a create revision at or below {@code maxCreateRev}. */
  static CompletableFuture<ResponseHeader> start(MemberClient client, ByteString prefix, long maxCreateRev) {
    DeletionWait w = new DeletionWait(client, prefix, maxCreateRev);
    w.done.whenComplete((h, err) -> w.closeWatch());
    w.look();
    return w.done;
  }

  private void look() {
    if (done.isDone()) {
      return;
    }
    client.range(ElectionKeys.newestUpTo(prefix, maxCreateRev)).whenComplete((r, err) -> {
      if (err != null) {
        done.completeExceptionally(err);
      } else if (r.getKvsCount() == 0) {
        done.complete(r.getHeader());
      } else {
        // From the revision the key was seen at: a deletion after the look is never missed.
        KeyWatch w = client.watch(r.getKvs(0).getKey(), ByteString.EMPTY, r.getHeader().getRevision(), this::onWatch);
        synchronized (this) {
          if (!done.isDone()) {
            watch = w;
            return;
          }
        }
        w.close();
      }
    });
  }

  /** The hub has responses for {@code w} (on the hub's thread). */
  private void onWatch(KeyWatch w) {
    for (WatchResponse r = w.poll(); r != null; r = w.poll()) {
      if (r.getCanceled()) {
        // The hub cancels a watcher whose start revision was compacted away (etcd's client reports
        // it as ErrCompacted); nothing else ends these watchers.
        w.close();
        done.completeExceptionally(EtcdError.COMPACTED.exception());
        return;
      }
      for (Event e : r.getEventsList()) {
        if (e.getType() == Event.EventType.DELETE) {
          w.close();
          look();
          return;
        }
      }
    }
  }

  private void closeWatch() {
    KeyWatch w;
    synchronized (this) {
      w = watch;
      watch = null;
    }
    if (w != null) {
      w.close();
    }
  }
}
