package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.LockResponse;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * One Lock call: etcd's {@code Mutex.Lock} ({@code clientv3/concurrency/mutex.go}) run for the
 * caller.
 *
 * <h2>Steps</h2>
 *
 * <ol>
 *   <li>The waiter's lease: the one asked for, or (lease 0) a new one nothing keeps alive.
 *   <li>One txn creates the waiter's key {@code name/<lease hex>} (empty value, the lease) unless it
 *       exists (the same lease locked before: the lock is re-entered with the key's create
 *       revision), and reads the oldest key under {@code name/}. If that is the waiter's own, the
 *       lock is held: the answer has the txn's header.
 *   <li>Otherwise wait ({@link DeletionWait}) until every key created before the waiter's is
 *       deleted; the answer has the header of the wait's last look.
 * </ol>
 *
 * <p>If the wait fails or is cancelled (the client went away), the waiter's key is deleted without
 * the caller's credentials, as etcd unlocks with its client's background context; a cancellation
 * while the txn is in flight does so once it returns.
 */
final class Acquisition {
  private enum State {
    /** Getting the lease, creating the key: cancelling now unlocks once the key is known. */
    ENTERING,
    /** The key is the waiter's: cancelling unlocks. */
    WAITING,
    /** Answered, failed or unlocked. */
    OVER
  }

  private final MemberClient client;
  private final MemberClient background;
  private final LockRequest request;
  private final ByteString prefix;
  private final CompletableFuture<LockResponse> result = new CompletableFuture<>();
  // Guarded by this.
  private State state = State.ENTERING;
  private CompletableFuture<ResponseHeader> waiting;
  // Set before the txn (key) and by its completion (rev), before the state becomes WAITING.
  private ByteString key;
  private long rev;

  Acquisition(MemberClient client, MemberClient background, LockRequest request) {
    this.client = client;
    this.background = background;
    this.request = request;
    this.prefix = ElectionKeys.prefix(request.getName());
  }

  CompletableFuture<LockResponse> start() {
    result.whenComplete((v, err) -> {
      if (result.isCancelled()) {
        cancelled();
      }
    });
    Elections.session(client, request.getLease()).thenCompose(this::enter).whenComplete((t, err) -> {
      if (err != null) {
        finish(null, err);
        return;
      }
      try {
        entered(t);
      } catch (RuntimeException e) {
        // A txn answer that cannot be (a read of the key that exists, without it): a defect.
        finish(null, e);
      }
    });
    return result;
  }

  private CompletableFuture<TxnResponse> enter(long lease) {
    if (result.isCancelled()) {
      // Gone while the lease was granted: as in etcd, no key is made.
      return CompletableFuture.failedFuture(new CancellationException());
    }
    key = ElectionKeys.candidate(prefix, lease);
    RequestOp owner = RequestOp.newBuilder().setRequestRange(ElectionKeys.oldest(prefix)).build();
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Elections.createRevision(key, 0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setLease(lease)))
        .addSuccess(owner)
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .addFailure(owner)
        .build();
    return client.txn(txn);
  }

  private void entered(TxnResponse t) {
    rev = t.getHeader().getRevision();
    if (!t.getSucceeded()) {
      rev = t.getResponses(0).getResponseRange().getKvs(0).getCreateRevision();
    }
    List<KeyValue> owner = t.getResponses(1).getResponseRange().getKvsList();
    synchronized (this) {
      if (state != State.ENTERING) {
        return;
      }
      state = State.WAITING;
      if (result.isCancelled()) {
        unlockInBackground();
        return;
      }
    }
    if (owner.isEmpty() || owner.get(0).getCreateRevision() == rev) {
      finish(t.getHeader(), null);
      return;
    }
    CompletableFuture<ResponseHeader> w = DeletionWait.start(client, prefix, rev - 1);
    synchronized (this) {
      if (state != State.WAITING) {
        w.cancel(false);
        return;
      }
      waiting = w;
    }
    w.whenComplete((h, err) -> {
      if (w.isCancelled()) {
        return;
      }
      if (err != null) {
        synchronized (this) {
          if (state != State.WAITING) {
            return;
          }
          unlockInBackground();
        }
        result.completeExceptionally(err);
      } else {
        finish(h, null);
      }
    });
  }

  /** Answers with {@code header} or fails with {@code err}, unless the call is already over. */
  private void finish(ResponseHeader header, Throwable err) {
    synchronized (this) {
      if (state == State.OVER) {
        return;
      }
      state = State.OVER;
    }
    if (err != null) {
      result.completeExceptionally(err);
    } else {
      result.complete(LockResponse.newBuilder().setHeader(header).setKey(key).build());
    }
  }

  /** The client went away. */
  private void cancelled() {
    CompletableFuture<ResponseHeader> w;
    synchronized (this) {
      if (state != State.WAITING) {
        // ENTERING: the txn's completion unlocks; OVER: nothing is left to undo.
        return;
      }
      w = waiting;
      unlockInBackground();
    }
    if (w != null) {
      w.cancel(false);
    }
  }

  /** etcd's Unlock with the client's background context: deletes the key (called under the lock). */
  private void unlockInBackground() {
    state = State.OVER;
    background.delete(key);
  }
}
