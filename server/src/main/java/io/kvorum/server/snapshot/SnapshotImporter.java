package io.kvorum.server.snapshot;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.leasepb.Lease;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads etcd 3.4's backend database (a snapshot file, or an etcd member's {@code member/snap/db})
 * into the SST files of a Kvorum backend ({@link SnapshotLoader}), bucket by bucket in Kvorum's
 * order, streaming: {@code key} and the auth buckets as they are (the layouts are the same), leases
 * from {@code leasepb.Lease}, alarms from marshalled {@code AlarmMember} keys, the compaction
 * revisions from etcd's {@code meta}.
 *
 * <p>What the database says about raft is not taken: its {@code consistent_index} (which {@code
 * etcdctl snapshot restore} sets to the number of new members) and its {@code members} buckets
 * (which restore leaves holding the old cluster). The caller knows where the member's log stands
 * and who the members are (from etcd's WAL and snap files) and passes both in.
 */
public final class SnapshotImporter {
  private SnapshotImporter() {}

  /** What the database held: its own consistent index, the newest revision, records read. */
  public record Read(long etcdConsistentIndex, long revision, long compactedRevision, long records) {}

  /**
   * The database's own {@code consistent_index} (0 when absent), read from {@code meta} alone: the
   * raft index its effects reach, which decides where a migrated member starts.
   */
  public static long consistentIndex(BoltReader db) throws IOException {
    requireEtcd(db);
    long[] ci = {0};
    db.forEach(EtcdBuckets.META, (k, v) -> {
      if (Arrays.equals(k, EtcdBuckets.META_CONSISTENT_INDEX)) {
        ci[0] = long8(v, "consistent_index");
        return false;
      }
      return true;
    });
    return ci[0];
  }

  /**
   * Loads {@code db} into {@code loader} as a Kvorum backend whose consistent index is {@code ci}
   * and whose membership is {@code membership}; the caller finishes the loader.
   */
  public static Read load(BoltReader db, SnapshotLoader loader, ConsistentIndex ci, MembershipRecord membership)
      throws IOException {
    requireEtcd(db);
    long[] records = {0};
    long[] revision = {0};
    db.forEach(EtcdBuckets.KEY, (k, v) -> {
      if (k.length != EtcdBuckets.REVISION_BYTES && k.length != EtcdBuckets.REVISION_BYTES + 1) {
        throw new IOException("bucket key holds a key of " + k.length + " bytes: not a revision");
      }
      revision[0] = EtcdBuckets.mainRevision(k);
      loader.add(Bucket.KEY.diskName(), ByteBuffer.wrap(k), v);
      records[0]++;
      return true;
    });

    long[] etcdCi = {0};
    long[] scheduled = {-1};
    long[] finished = {-1};
    db.forEach(EtcdBuckets.META, (k, v) -> {
      if (Arrays.equals(k, EtcdBuckets.META_CONSISTENT_INDEX)) {
        etcdCi[0] = long8(v, "consistent_index");
      } else if (Arrays.equals(k, EtcdBuckets.META_SCHEDULED_COMPACT)) {
        scheduled[0] = EtcdBuckets.mainRevision(bytes(v));
      } else if (Arrays.equals(k, EtcdBuckets.META_FINISHED_COMPACT)) {
        finished[0] = EtcdBuckets.mainRevision(bytes(v));
      }
      return true;
    });
    // Kvorum's meta, in key order: consistent_index, membership, schema_version, term.
    loader.add(Bucket.META.diskName(), Schema.consistentIndexKey(), Schema.longBytes(ci.index()));
    loader.add(Bucket.META.diskName(), Schema.membershipKey(), membership.toByteArray());
    loader.add(Bucket.META.diskName(), Schema.schemaVersionKey(), Schema.longBytes(Schema.SCHEMA_VERSION));
    loader.add(Bucket.META.diskName(), Schema.termKey(), Schema.longBytes(ci.term()));
    // Kvorum's compaction bucket, in key order: finishedCompactRev, scheduledCompactRev.
    if (finished[0] >= 0) {
      loader.add(Bucket.COMPACTION.diskName(), Schema.compactionFinishedKey(), Schema.longBytes(finished[0]));
    }
    if (scheduled[0] >= 0) {
      loader.add(Bucket.COMPACTION.diskName(), Schema.compactionScheduledKey(), Schema.longBytes(scheduled[0]));
    }

    if (db.hasBucket(EtcdBuckets.LEASE)) {
      db.forEach(EtcdBuckets.LEASE, (k, v) -> {
        Lease l = EtcdBuckets.lease(v);
        if (k.length != 8 || ByteBuffer.wrap(k).getLong() != l.getID()) {
          throw new IOException("lease record key does not hold its lease id " + l.getID());
        }
        loader.add(Bucket.LEASE.diskName(), Schema.leaseKey(l.getID()),
            Schema.leaseValue(l.getTTL(), l.getRemainingTTL()));
        records[0]++;
        return true;
      });
    }
    copy(db, EtcdBuckets.AUTH, Bucket.AUTH, loader, records);
    copy(db, EtcdBuckets.AUTH_USERS, Bucket.AUTH_USERS, loader, records);
    copy(db, EtcdBuckets.AUTH_ROLES, Bucket.AUTH_ROLES, loader, records);
    if (db.hasBucket(EtcdBuckets.ALARM)) {
      List<byte[]> alarms = new ArrayList<>();
      db.forEach(EtcdBuckets.ALARM, (k, v) -> {
        AlarmMember a = EtcdBuckets.alarm(k);
        alarms.add(Schema.alarmKey(a.getMemberID(), a.getAlarmValue()));
        return true;
      });
      alarms.sort(Arrays::compareUnsigned);
      for (byte[] k : alarms) {
        loader.add(Bucket.ALARM.diskName(), k, new byte[0]);
        records[0]++;
      }
    }
    return new Read(etcdCi[0], revision[0], Math.max(0, scheduled[0]), records[0]);
  }

  private static void copy(BoltReader db, byte[] from, Bucket to, SnapshotLoader loader, long[] records)
      throws IOException {
    if (!db.hasBucket(from)) {
      return;
    }
    db.forEach(from, (k, v) -> {
      loader.add(to.diskName(), ByteBuffer.wrap(k), v);
      records[0]++;
      return true;
    });
  }

  /** An etcd backend has at least its {@code key} and {@code meta} buckets. */
  private static void requireEtcd(BoltReader db) throws IOException {
    if (!db.hasBucket(EtcdBuckets.KEY) || !db.hasBucket(EtcdBuckets.META)) {
      throw new IOException("not an etcd backend: the bbolt file has no \"key\" and \"meta\" buckets");
    }
  }

  private static long long8(ByteBuffer v, String what) throws IOException {
    if (v.remaining() != 8) {
      throw new IOException(what + " has " + v.remaining() + " bytes, expected 8");
    }
    return v.duplicate().getLong();
  }

  private static byte[] bytes(ByteBuffer v) {
    byte[] b = new byte[v.remaining()];
    v.duplicate().get(b);
    return b;
  }
}
