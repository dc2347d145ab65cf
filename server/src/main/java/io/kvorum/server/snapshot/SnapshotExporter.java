package io.kvorum.server.snapshot;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.server.bolt.BoltWriter;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a Kvorum backend as etcd 3.4's backend database: a bbolt file with etcd's ten buckets, the
 * file {@code etcdctl snapshot save} stores (before the SHA-256 the stream appends), that {@code
 * etcdctl snapshot status} reads and {@code etcdctl snapshot restore} turns into an etcd data dir.
 *
 * <p>Everything comes from one {@link ReadView} snapshot, so the file holds the backend at one
 * consistent index while writes go on. The big buckets ({@code key}, and the auth buckets) are
 * copied record by record as they are stored (Kvorum keeps etcd's layout there), streaming: memory
 * does not grow with the data. The small ones are converted: leases to {@code leasepb.Lease}, alarm
 * keys to marshalled {@code AlarmMember}s, the membership record to etcd's member JSON, the
 * compaction revisions to revision keys in {@code meta}. Kvorum's own {@code meta} records (schema
 * version, term, membership) are not etcd's and stay out.
 */
public final class SnapshotExporter {
  private SnapshotExporter() {}

  /** What was written. */
  public record Exported(Path file, long sizeBytes, ConsistentIndex consistentIndex, long revision, long records) {}

  /** Writes the backend {@code view} sees into {@code file} (created or truncated). */
  public static Exported write(ReadView view, Path file) throws IOException {
    ConsistentIndex ci = view.consistentIndex();
    MembershipRecord membership = membership(view);
    long[] records = {0};
    long[] revision = {0};
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(EtcdBuckets.ALARM);
      TreeMap<byte[], byte[]> alarms = sorted();
      view.scan(Bucket.ALARM, new byte[0], null, Long.MAX_VALUE, (k, v) -> {
        long[] a = Schema.readAlarmKey(k);
        alarms.put(EtcdBuckets.alarmKey(a[0], (int) a[1]), new byte[0]);
        return true;
      });
      putAll(w, alarms, records);

      // etcd writes the auth revision (1) when it first starts; Kvorum only at the first auth change
      // (an absent one reads as 1), so the file says what etcd's would.
      w.beginBucket(EtcdBuckets.AUTH);
      TreeMap<byte[], byte[]> auth = sorted();
      view.scan(Bucket.AUTH, new byte[0], null, Long.MAX_VALUE, (k, v) -> {
        auth.put(k, v);
        return true;
      });
      auth.putIfAbsent(Schema.authRevisionKey(), Schema.longBytes(1));
      putAll(w, auth, records);
      copy(view, Bucket.AUTH_ROLES, EtcdBuckets.AUTH_ROLES, w, records, null);
      copy(view, Bucket.AUTH_USERS, EtcdBuckets.AUTH_USERS, w, records, null);

      w.beginBucket(EtcdBuckets.CLUSTER);
      w.put(EtcdBuckets.CLUSTER_VERSION, EtcdBuckets.ascii(EtcdBuckets.CLUSTER_VERSION_VALUE));
      records[0]++;

      copy(view, Bucket.KEY, EtcdBuckets.KEY, w, records, revision);

      w.beginBucket(EtcdBuckets.LEASE);
      view.scan(Bucket.LEASE, new byte[0], null, Long.MAX_VALUE, (k, v) -> {
        long id = Schema.readLong(k, "lease id");
        long[] ttl = Schema.readLeaseValue(v);
        put(w, EtcdBuckets.leaseKey(id), ByteBuffer.wrap(EtcdBuckets.leaseValue(id, ttl[0], ttl[1])));
        records[0]++;
        return true;
      });

      w.beginBucket(EtcdBuckets.MEMBERS);
      TreeMap<byte[], byte[]> members = sorted();
      for (Member m : membership.getMembersList()) {
        members.put(EtcdBuckets.memberKey(m.getID()), EtcdBuckets.memberJson(m));
      }
      putAll(w, members, records);

      w.beginBucket(EtcdBuckets.MEMBERS_REMOVED);
      TreeMap<byte[], byte[]> removed = sorted();
      for (long id : membership.getRemovedList()) {
        removed.put(EtcdBuckets.memberKey(id), EtcdBuckets.REMOVED.clone());
      }
      putAll(w, removed, records);

      w.beginBucket(EtcdBuckets.META);
      w.put(EtcdBuckets.META_CONSISTENT_INDEX, Schema.longBytes(ci.index()));
      records[0]++;
      byte[] finished = view.get(Bucket.COMPACTION, Schema.compactionFinishedKey());
      if (finished != null) {
        w.put(EtcdBuckets.META_FINISHED_COMPACT,
            EtcdBuckets.revision(Schema.readLong(finished, "finishedCompactRev")));
        records[0]++;
      }
      byte[] scheduled = view.get(Bucket.COMPACTION, Schema.compactionScheduledKey());
      if (scheduled != null) {
        w.put(EtcdBuckets.META_SCHEDULED_COMPACT,
            EtcdBuckets.revision(Schema.readLong(scheduled, "scheduledCompactRev")));
        records[0]++;
      }
      long size = w.finish(Math.max(1, ci.index()));
      return new Exported(file, size, ci, revision[0], records[0]);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static MembershipRecord membership(ReadView view) throws IOException {
    byte[] rec = view.get(Bucket.META, Schema.membershipKey());
    if (rec == null) {
      return MembershipRecord.getDefaultInstance();
    }
    try {
      return MembershipRecord.parseFrom(rec);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("corrupt membership record: " + e.getMessage(), e);
    }
  }

  /** Copies Kvorum bucket {@code from} as etcd bucket {@code to}, record by record; notes the last revision of {@code key}. */
  private static void copy(ReadView view, Bucket from, byte[] to, BoltWriter w, long[] records, long[] lastRevision)
      throws IOException {
    w.beginBucket(to);
    byte[][] last = {null};
    long n = view.scanBulk(from, new byte[0], (k, v) -> {
      put(w, k, v);
      last[0] = k;
      return true;
    });
    records[0] += n;
    if (lastRevision != null && last[0] != null) {
      lastRevision[0] = EtcdBuckets.mainRevision(last[0]);
    }
  }

  /** A small bucket's records, gathered to be written in key order (unsigned bytes, as bbolt's). */
  private static TreeMap<byte[], byte[]> sorted() {
    return new TreeMap<>(Arrays::compareUnsigned);
  }

  private static void putAll(BoltWriter w, TreeMap<byte[], byte[]> bucket, long[] records) throws IOException {
    for (Map.Entry<byte[], byte[]> e : bucket.entrySet()) {
      w.put(e.getKey(), e.getValue());
      records[0]++;
    }
  }

  private static void put(BoltWriter w, byte[] key, ByteBuffer value) {
    try {
      w.put(key, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
