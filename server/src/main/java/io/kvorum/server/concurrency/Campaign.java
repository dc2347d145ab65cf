package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.LeaderKey;
import io.kvorum.server.errors.EtcdError;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * One Campaign call: etcd's {@code Election.Campaign} ({@code clientv3/concurrency/election.go})
 * run for the caller.
 *
 * <h2>Steps</h2>
 *
 * <ol>
 *   <li>The candidate's lease: the one asked for, or (lease 0) a new one of {@link
 *       Elections#SESSION_TTL_SECONDS}, which nothing keeps alive (etcd orphans its session).
 *   <li>One txn creates the candidate's key {@code name/<lease hex>} with the value and the lease,
 *       unless it exists (the same lease campaigned before): then it reads it, and the candidate's
 *       revision is the key's create revision; a different value is proclaimed.
 *   <li>Wait ({@link DeletionWait}) until every key under {@code name/} created before the
 *       candidate's is deleted. The answer's header is the txn's, as in etcd, however long the wait.
 * </ol>
 *
 * <h2>Cancellation</h2>
 *
 * <p>Cancelling the future (the client went away, or its deadline passed) stops the wait, closing
 * its watch, and resigns — deletes the key if it is still the candidate's — without the caller's
 * credentials, as etcd resigns with its client's background context. A cancellation that comes
 * while the txn is in flight resigns once it returns (etcd returns at once and leaves the key to
 * its lease, or not, depending on the race). A wait that fails otherwise leaves the key, as etcd
 * does.
 */
final class Campaign {
  private enum State {
    /** Getting the lease, creating the key: cancelling now resigns once the key is known. */
    ENTERING,
    /** The key is the candidate's: cancelling resigns. */
    CANDIDATE,
    /** Answered, failed or resigned. */
    OVER
  }

  private final MemberClient client;
  private final MemberClient background;
  private final CampaignRequest request;
  private final ByteString prefix;
  private final CompletableFuture<CampaignResponse> result = new CompletableFuture<>();
  // Guarded by this.
  private State state = State.ENTERING;
  private CompletableFuture<ResponseHeader> waiting;
  // Set before the txn (key, lease) and by its completion (rev, header), before the state becomes CANDIDATE.
  private ByteString key;
  private long lease;
  private long rev;
  private ResponseHeader header;

  Campaign(MemberClient client, MemberClient background, CampaignRequest request) {
    this.client = client;
    this.background = background;
    this.request = request;
    this.prefix = ElectionKeys.prefix(request.getName());
  }

  CompletableFuture<CampaignResponse> start() {
    result.whenComplete((v, err) -> {
      if (result.isCancelled()) {
        cancelled();
      }
    });
    Elections.session(client, request.getLease()).thenCompose(this::enter).whenComplete((t, err) -> {
      if (err != null) {
        finish(err);
        return;
      }
      try {
        entered(t);
      } catch (RuntimeException e) {
        // A txn answer that cannot be (a read of the key that exists, without it): a defect.
        finish(e);
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
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Elections.createRevision(key, 0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(key).setValue(request.getValue()).setLease(lease)))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .build();
    return client.txn(txn);
  }

  private void entered(TxnResponse t) {
    header = t.getHeader();
    rev = header.getRevision();
    KeyValue existing = null;
    if (!t.getSucceeded()) {
      existing = t.getResponses(0).getResponseRange().getKvs(0);
      rev = existing.getCreateRevision();
    }
    synchronized (this) {
      if (state != State.ENTERING) {
        return;
      }
      state = State.CANDIDATE;
      if (result.isCancelled()) {
        resignInBackground();
        return;
      }
    }
    if (existing != null && !existing.getValue().equals(request.getValue())) {
      proclaim();
    } else {
      waitForPredecessors();
    }
  }

  /** The same lease campaigned before with another value: etcd proclaims the new one first. */
  private void proclaim() {
    client.txn(Elections.proclaimTxn(key, rev, request.getValue(), lease)).whenComplete((t, err) -> {
      if (err != null) {
        // etcd resigns with the caller's context here, then fails with the proclaim's error.
        client.txn(Elections.resignTxn(key, rev)).whenComplete((r, e) -> finish(err));
      } else if (!t.getSucceeded()) {
        // The key went between the two txns; etcd's resign then has no key to delete.
        finish(EtcdError.ELECTION_NOT_LEADER.exception());
      } else {
        waitForPredecessors();
      }
    });
  }

  private void waitForPredecessors() {
    CompletableFuture<ResponseHeader> w = DeletionWait.start(client, prefix, rev - 1);
    synchronized (this) {
      if (state != State.CANDIDATE) {
        w.cancel(false);
        return;
      }
      waiting = w;
    }
    w.whenComplete((h, err) -> {
      if (err == null) {
        finish(null);
      } else if (!w.isCancelled()) {
        finish(err);
      }
    });
  }

  /** Answers (err null) or fails the call, unless it is already over. */
  private void finish(Throwable err) {
    synchronized (this) {
      if (state == State.OVER) {
        return;
      }
      state = State.OVER;
    }
    if (err != null) {
      result.completeExceptionally(err);
      return;
    }
    result.complete(CampaignResponse.newBuilder().setHeader(header).setLeader(LeaderKey.newBuilder()
        .setName(request.getName()).setKey(key).setRev(rev).setLease(lease)).build());
  }

  /** The client went away. */
  private void cancelled() {
    CompletableFuture<ResponseHeader> w;
    synchronized (this) {
      if (state != State.CANDIDATE) {
        // ENTERING: the txn's completion resigns; OVER: nothing is left to undo.
        return;
      }
      w = waiting;
      resignInBackground();
    }
    if (w != null) {
      w.cancel(false);
    }
  }

  /** Deletes the key if it is still the candidate's, as the member's own client (called under the lock). */
  private void resignInBackground() {
    state = State.OVER;
    background.txn(Elections.resignTxn(key, rev));
  }
}
