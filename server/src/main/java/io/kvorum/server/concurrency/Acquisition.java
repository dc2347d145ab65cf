package io.kvorum.server.concurrency;

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
final class Acquisition extends KeyWait<LockResponse> {
  Acquisition(MemberClient client, MemberClient background, LockRequest request) {
    super(client, background, request.getName());
  }

  @Override
  TxnRequest enterTxn() {
    RequestOp owner = RequestOp.newBuilder().setRequestRange(ElectionKeys.oldest(prefix)).build();
    return TxnRequest.newBuilder()
        .addCompare(Elections.createRevision(key, 0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setLease(lease)))
        .addSuccess(owner)
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .addFailure(owner)
        .build();
  }

  @Override
  void entered(TxnResponse t) {
    rev = t.getHeader().getRevision();
    if (!t.getSucceeded()) {
      rev = t.getResponses(0).getResponseRange().getKvs(0).getCreateRevision();
    }
    List<KeyValue> owner = t.getResponses(1).getResponseRange().getKvsList();
    if (!keyMade()) {
      return;
    }
    if (owner.isEmpty() || owner.get(0).getCreateRevision() == rev) {
      succeed(t.getHeader());
      return;
    }
    waitForOlderKeys();
  }

  /** The answer: the header of the txn that got the lock, or of the wait's last look. */
  @Override
  LockResponse answer(ResponseHeader header) {
    return LockResponse.newBuilder().setHeader(header).setKey(key).build();
  }

  /** etcd's Lock unlocks when its wait fails. */
  @Override
  void waitFailed(Throwable err) {
    undoAndFail(err);
  }

  /** etcd's Unlock with the client's background context: deletes the key. */
  @Override
  void undoInBackground() {
    background.delete(key);
  }
}
