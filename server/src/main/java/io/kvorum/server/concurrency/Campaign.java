package io.kvorum.server.concurrency;

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
final class Campaign extends KeyWait<CampaignResponse> {
  private final CampaignRequest request;
  // Set by the txn's completion, before the state leaves ENTERING.
  private ResponseHeader header;

  Campaign(MemberClient client, MemberClient background, CampaignRequest request) {
    super(client, background, request.getName());
    this.request = request;
  }

  CompletableFuture<CampaignResponse> start() {
    return start(request.getLease());
  }

  @Override
  TxnRequest enterTxn() {
    return TxnRequest.newBuilder()
        .addCompare(Elections.createRevision(key, 0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(key).setValue(request.getValue()).setLease(lease)))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .build();
  }

  @Override
  void entered(TxnResponse t) {
    header = t.getHeader();
    rev = header.getRevision();
    KeyValue existing = null;
    if (!t.getSucceeded()) {
      existing = t.getResponses(0).getResponseRange().getKvs(0);
      rev = existing.getCreateRevision();
    }
    if (!keyMade()) {
      return;
    }
    if (existing != null && !existing.getValue().equals(request.getValue())) {
      proclaim();
    } else {
      waitForOlderKeys();
    }
  }

  /** The same lease campaigned before with another value: etcd proclaims the new one first. */
  private void proclaim() {
    client.txn(Elections.proclaimTxn(key, rev, request.getValue(), lease)).whenComplete((t, err) -> {
      if (err != null) {
        // etcd resigns with the caller's context here, then fails with the proclaim's error.
        client.txn(Elections.resignTxn(key, rev)).whenComplete((r, e) -> fail(err));
      } else if (!t.getSucceeded()) {
        // The key went between the two txns; etcd's resign then has no key to delete.
        fail(EtcdError.ELECTION_NOT_LEADER.exception());
      } else {
        waitForOlderKeys();
      }
    });
  }

  /** The answer's header is the txn's, as in etcd, however long the wait. */
  @Override
  CampaignResponse answer(ResponseHeader lastLook) {
    return CampaignResponse.newBuilder().setHeader(header).setLeader(LeaderKey.newBuilder()
        .setName(request.getName()).setKey(key).setRev(rev).setLease(lease)).build();
  }

  /** etcd's Campaign leaves the key when its wait fails other than by a cancellation. */
  @Override
  void waitFailed(Throwable err) {
    fail(err);
  }

  /** Deletes the key if it is still the candidate's, as the member's own client. */
  @Override
  void undoInBackground() {
    background.txn(Elections.resignTxn(key, rev));
  }
}
