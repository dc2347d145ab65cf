package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.v3lockpb.LockGrpc;
import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.LockResponse;
import io.kvorum.proto.v3lockpb.UnlockRequest;
import io.kvorum.proto.v3lockpb.UnlockResponse;
import io.kvorum.server.concurrency.Locks;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;

/**
 * etcd's Lock service ({@code v3lockpb.Lock}): errors go out unmapped (UNKNOWN), as etcd's
 * in-process client hands them back; a client that cancels a waiting Lock (or whose deadline
 * passes) stops the wait and its waiter's key is deleted.
 */
final class LockService extends LockGrpc.LockImplBase {
  private static final RequestContext LOCK = Requests.base(LockGrpc.getLockMethod());
  private static final RequestContext UNLOCK = Requests.base(LockGrpc.getUnlockMethod());
  private final MemberView member;
  private final Locks locks;

  LockService(MemberView member, Locks locks) {
    this.member = member;
    this.locks = locks;
  }

  @Override
  public void lock(LockRequest request, StreamObserver<LockResponse> out) {
    ElectionService.answer(out, () -> locks.lock(ElectionService.caller(LOCK, member), request));
  }

  @Override
  public void unlock(UnlockRequest request, StreamObserver<UnlockResponse> out) {
    ElectionService.answer(out, () -> locks.unlock(ElectionService.caller(UNLOCK, member), request));
  }
}
