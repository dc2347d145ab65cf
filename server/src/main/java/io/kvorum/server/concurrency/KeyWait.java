package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * What a Campaign and a Lock call share: a lease, one txn that makes the caller's key {@code
 * name/<lease hex>} under the name's prefix, then a wait ({@link DeletionWait}) until every key
 * created before it is deleted, and one answer. A client that goes away (the result is cancelled)
 * stops the wait, closing its watch, and the key is undone in the background — at once while
 * waiting, or once the txn returns if it is still in flight.
 *
 * <p>The subclass says what the txn is, what its answer means, how the key is undone and what
 * the answer holds; the states and the races between the txn, the wait and a cancellation live
 * here, under this object's lock.
 */
abstract class KeyWait<R> {
  private enum State {
    /** Getting the lease, making the key: cancelling now undoes once the key is known. */
    ENTERING,
    /** The key is the caller's: cancelling undoes. */
    WAITING,
    /** Answered, failed or undone. */
    OVER
  }

  final MemberClient client;
  final MemberClient background;
  final ByteString prefix;
  final CompletableFuture<R> result = new CompletableFuture<>();
  // Guarded by this.
  private State state = State.ENTERING;
  private CompletableFuture<ResponseHeader> waiting;
  // Set before the txn (key, lease) and by its completion (rev), before the state becomes WAITING.
  ByteString key;
  long lease;
  long rev;

  KeyWait(MemberClient client, MemberClient background, ByteString name) {
    this.client = client;
    this.background = background;
    this.prefix = ElectionKeys.prefix(name);
  }

  /** The txn that makes the key (the key and lease are set). */
  abstract TxnRequest enterTxn();

  /** The txn's answer: sets {@link #rev}, then calls {@link #keyMade()} and goes on. */
  abstract void entered(TxnResponse t);

  /** Undoes the key with the member's own client, without waiting (under the lock). */
  abstract void undoInBackground();

  /** The answer once no older key is left; {@code lastLook} is the wait's last header, or null. */
  abstract R answer(ResponseHeader lastLook);

  /** The wait failed other than by a cancellation: fail the call (and undo, if the recipe does). */
  abstract void waitFailed(Throwable err);

  /** Runs the call with {@code requestedLease} (0: a new one). */
  final CompletableFuture<R> start(long requestedLease) {
    result.whenComplete((v, err) -> {
      if (result.isCancelled()) {
        cancelled();
      }
    });
    Elections.session(client, requestedLease).thenCompose(this::enter).whenComplete((t, err) -> {
      if (err != null) {
        fail(err);
        return;
      }
      try {
        entered(t);
      } catch (RuntimeException e) {
        // A txn answer that cannot be (a read of the key that exists, without it): a defect.
        fail(e);
      }
    });
    return result;
  }

  private CompletableFuture<TxnResponse> enter(long lease) {
    if (result.isCancelled()) {
      // Gone while the lease was granted: as in etcd, no key is made.
      return CompletableFuture.failedFuture(new CancellationException());
    }
    this.lease = lease;
    this.key = ElectionKeys.candidate(prefix, lease);
    return client.txn(enterTxn());
  }

  /** The key is the caller's now; false if the call is over (undone at once if the client left). */
  final boolean keyMade() {
    synchronized (this) {
      if (state != State.ENTERING) {
        return false;
      }
      state = State.WAITING;
      if (result.isCancelled()) {
        undo();
        return false;
      }
    }
    return true;
  }

  /** Waits until every key created before the caller's is deleted, then answers. */
  final void waitForOlderKeys() {
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
        waitFailed(err);
      } else {
        succeed(h);
      }
    });
  }

  /** Answers, unless the call is already over. */
  final void succeed(ResponseHeader lastLook) {
    if (over()) {
      result.complete(answer(lastLook));
    }
  }

  /** Fails the call with {@code err}, unless it is already over. */
  final void fail(Throwable err) {
    if (over()) {
      result.completeExceptionally(err);
    }
  }

  /** Undoes the key and fails with {@code err}, unless the call is already over or undone. */
  final void undoAndFail(Throwable err) {
    synchronized (this) {
      if (state != State.WAITING) {
        return;
      }
      undo();
    }
    result.completeExceptionally(err);
  }

  /** Moves to OVER; false if it already was. */
  private synchronized boolean over() {
    if (state == State.OVER) {
      return false;
    }
    state = State.OVER;
    return true;
  }

  /** The client went away. */
  private void cancelled() {
    CompletableFuture<ResponseHeader> w;
    synchronized (this) {
      if (state != State.WAITING) {
        // ENTERING: the txn's completion undoes; OVER: nothing is left to undo.
        return;
      }
      w = waiting;
      undo();
    }
    if (w != null) {
      w.cancel(false);
    }
  }

  /** Under the lock. */
  private void undo() {
    state = State.OVER;
    undoInBackground();
  }
}
