package io.kvorum.server.apply;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.LeaseCheckpoint;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.WriteTxn;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.Schema;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies lease entries (etcd's lease half of {@code applierV3backend}) deterministically: every
 * change to the leases is persisted in the same atomic batch as the entry's consistent index, and
 * a revocation deletes the lease's keys in one revision (so watchers see one response).
 */
public final class LeaseApplier {
  private final Lessor lessor;
  private final KvStore kv;

  public LeaseApplier(Lessor lessor, KvStore kv) {
    this.lessor = lessor;
    this.kv = kv;
  }

  /**
   * Grants a lease with the id the proposer chose.
   *
   * @return the TTL granted
   */
  public long grant(LeaseGrantRequest r, ConsistentIndex ci) {
    if (r.getID() == 0) {
      throw EtcdError.LEASE_NOT_FOUND.exception();
    }
    if (r.getTTL() > Lessor.MAX_TTL) {
      throw EtcdError.LEASE_T_T_L_TOO_LARGE.exception();
    }
    if (lessor.exists(r.getID())) {
      throw EtcdError.LEASE_EXIST.exception();
    }
    long ttl = lessor.grantedTtl(r.getTTL());
    try (WriteTxn w = kv.write(ci)) {
      w.putOther(Schema.Bucket.LEASE, Schema.leaseKey(r.getID()), Schema.leaseValue(ttl, 0));
      w.end();
    }
    return lessor.grant(r.getID(), r.getTTL());
  }

  /**
   * Revokes the leases of {@code ids} that exist, deleting all their keys in one revision.
   *
   * @param required when true and a lease does not exist, fails with etcd's lease-not-found error
   *     (a client's revoke); the leader's expiry batches skip leases already gone
   * @return the store's revision afterwards
   */
  public long revoke(List<Long> ids, ConsistentIndex ci, boolean required) {
    List<Long> present = new ArrayList<>(ids.size());
    for (long id : ids) {
      if (lessor.exists(id)) {
        present.add(id);
      } else if (required) {
        throw EtcdError.LEASE_NOT_FOUND.exception();
      }
    }
    long rev;
    try (WriteTxn w = kv.write(ci)) {
      for (long id : present) {
        for (ByteString key : lessor.keys(id)) {
          w.deleteRange(KeyRange.single(key));
        }
        w.deleteOther(Schema.Bucket.LEASE, Schema.leaseKey(id));
      }
      rev = w.end();
    }
    for (long id : present) {
      lessor.revoke(id);
    }
    return rev;
  }

  /** Records the remaining TTLs the leader checkpointed; unknown leases are skipped. */
  public void checkpoint(LeaseCheckpointRequest r, ConsistentIndex ci) {
    List<LeaseCheckpoint> known = new ArrayList<>();
    try (WriteTxn w = kv.write(ci)) {
      for (LeaseCheckpoint c : r.getCheckpointsList()) {
        long[] rec = lessor.record(c.getID());
        if (rec != null) {
          known.add(c);
          w.putOther(Schema.Bucket.LEASE, Schema.leaseKey(c.getID()), Schema.leaseValue(rec[0], c.getRemainingTTL()));
        }
      }
      w.end();
    }
    for (LeaseCheckpoint c : known) {
      lessor.checkpoint(c.getID(), c.getRemainingTTL());
    }
  }
}
