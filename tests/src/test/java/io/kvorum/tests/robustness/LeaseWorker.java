package io.kvorum.tests.robustness;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.tests.MemberProcess;
import io.kvorum.tests.robustness.check.Finding;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Leases with a key attached, kept alive, revoked or left to expire, checked for the one thing a
 * lease promises: once its revoke is acknowledged, or once the cluster reports it gone, no member
 * serves its key to a linearizable read.
 */
final class LeaseWorker {
  /** The time to live of a lease that will be revoked, seconds. */
  static final long REVOKED_TTL_S = 10;
  /** The time to live of a lease left to expire, seconds. */
  static final long EXPIRING_TTL_S = 2;
  /** How long a lease left to expire may take to be reported gone (elections included). */
  static final long EXPIRY_WAIT_MS = 30_000;
  /** Reads of a revoked lease's key tried before the check gives up on reaching a member. */
  static final int READ_ATTEMPTS_MAX = 20;

  private final ProcessCluster cluster;
  private final Random random;
  private final List<Finding> findings = new ArrayList<>();
  private int member;
  int granted;
  int keepAlives;
  int revoked;
  int expired;
  int checked;

  LeaseWorker(ProcessCluster cluster, long seed) {
    this.cluster = cluster;
    this.random = new Random(seed);
  }

  private io.grpc.ManagedChannel channel() {
    List<MemberProcess> ms = cluster.members();
    return cluster.channel(ms.get(Math.floorMod(member, ms.size())));
  }

  /** One lease's life; errors (a member down, no leader) end it early and move to the next member. */
  void once() {
    boolean expire = random.nextInt(3) == 0;
    try {
      long id = LeaseGrpc.newBlockingStub(channel()).withDeadlineAfter(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(expire ? EXPIRING_TTL_S : REVOKED_TTL_S).build()).getID();
      granted++;
      String key = "lease/" + Long.toHexString(id);
      KVGrpc.newBlockingStub(channel()).withDeadlineAfter(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))
              .setLease(id).build());
      if (expire) {
        awaitGone(id, key);
        return;
      }
      keepAlive(id);
      LeaseGrpc.newBlockingStub(channel()).withDeadlineAfter(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
      revoked++;
      assertAbsent(key, "revoke of lease " + Long.toHexString(id) + " acknowledged");
    } catch (StatusRuntimeException e) {
      member++;
    }
  }

  private void keepAlive(long id) {
    BlockingQueue<LeaseKeepAliveResponse> answers = new ArrayBlockingQueue<>(1);
    StreamObserver<LeaseKeepAliveRequest> s = LeaseGrpc.newStub(channel()).leaseKeepAlive(new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        answers.offer(r);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    try {
      s.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
      LeaseKeepAliveResponse r = answers.poll(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      if (r != null) {
        keepAlives++;
        if (r.getTTL() <= 0) {
          findings.add(new Finding("keep-alive of live lease " + Long.toHexString(id) + " answered TTL " + r.getTTL(), List.of()));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      s.onCompleted();
    }
  }

  private void awaitGone(long id, String key) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EXPIRY_WAIT_MS);
    while (System.nanoTime() < deadline) {
      try {
        long ttl = LeaseGrpc.newBlockingStub(channel()).withDeadlineAfter(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).build()).getTTL();
        if (ttl == -1) {
          expired++;
          assertAbsent(key, "lease " + Long.toHexString(id) + " reported expired");
          return;
        }
      } catch (StatusRuntimeException e) {
        member++;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
    }
  }

  private void assertAbsent(String key, String after) {
    for (int i = 0; i < READ_ATTEMPTS_MAX; i++) {
      try {
        long count = KVGrpc.newBlockingStub(channel()).withDeadlineAfter(KvClient.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setCountOnly(true).build()).getCount();
        checked++;
        if (count != 0) {
          findings.add(new Finding("key " + key + " readable after " + after, List.of()));
        }
        return;
      } catch (StatusRuntimeException e) {
        member++;
      }
    }
  }

  List<Finding> findings() {
    return List.copyOf(findings);
  }
}
