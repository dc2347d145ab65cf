package io.kvorum.server.snapshot;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.leasepb.Lease;
import io.kvorum.server.gojson.GoJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * etcd 3.4's bucket names and value encodings in its bbolt backend, as far as they differ from
 * Kvorum's own ({@code io.kvorum.server.storage.Schema}); {@code docs/formats/etcd-backend.md}
 * describes each bucket byte by byte.
 *
 * <p>Same in both: {@code key} (revision keys, marshalled {@code mvccpb.KeyValue}), {@code auth},
 * {@code authUsers}, {@code authRoles}. Different: etcd's {@code meta} holds the compaction
 * revisions as 17-byte revision keys beside {@code consistent_index} (Kvorum keeps them in a
 * {@code compaction} bucket as plain numbers); a {@code lease} value is a marshalled {@code
 * leasepb.Lease}; an {@code alarm} key is a marshalled {@code AlarmMember}; the membership is
 * JSON in {@code members} (key: the id in lower-case hex), {@code members_removed} and the cluster
 * version in {@code cluster}.
 */
final class EtcdBuckets {
  private EtcdBuckets() {}

  static final byte[] ALARM = ascii("alarm");
  static final byte[] AUTH = ascii("auth");
  static final byte[] AUTH_ROLES = ascii("authRoles");
  static final byte[] AUTH_USERS = ascii("authUsers");
  static final byte[] CLUSTER = ascii("cluster");
  static final byte[] KEY = ascii("key");
  static final byte[] LEASE = ascii("lease");
  static final byte[] MEMBERS = ascii("members");
  static final byte[] MEMBERS_REMOVED = ascii("members_removed");
  static final byte[] META = ascii("meta");

  /** {@code meta}: the raft index of the last entry whose effects the database holds, 8 bytes big-endian. */
  static final byte[] META_CONSISTENT_INDEX = ascii("consistent_index");
  /** {@code meta}: the newest compaction accepted, as a 17-byte revision key (sub revision 0). */
  static final byte[] META_SCHEDULED_COMPACT = ascii("scheduledCompactRev");
  /** {@code meta}: the newest compaction physically finished, as a 17-byte revision key. */
  static final byte[] META_FINISHED_COMPACT = ascii("finishedCompactRev");
  /** {@code cluster}: the cluster version, as text ({@code 3.4.0}). */
  static final byte[] CLUSTER_VERSION = ascii("clusterVersion");
  /** The cluster version a Kvorum member writes: etcd 3.4's. */
  static final String CLUSTER_VERSION_VALUE = "3.4.0";
  /** {@code members_removed}: the value of every record. */
  static final byte[] REMOVED = ascii("removed");

  /** Length of a revision key: main (8), '_', sub (8). */
  static final int REVISION_BYTES = 17;

  /** A revision key with sub revision 0, as etcd writes the compaction revisions. */
  static byte[] revision(long main) {
    return ByteBuffer.allocate(REVISION_BYTES).putLong(main).put((byte) '_').putLong(0).array();
  }

  /** The main revision of a revision key (17 bytes, or 18 for a tombstone). */
  static long mainRevision(byte[] key) throws IOException {
    if (key.length < REVISION_BYTES || key[8] != '_') {
      throw new IOException("not a revision key: " + key.length + " bytes");
    }
    return ByteBuffer.wrap(key).getLong();
  }

  static byte[] leaseKey(long id) {
    return ByteBuffer.allocate(8).putLong(id).array();
  }

  static byte[] leaseValue(long id, long ttl, long remainingTtl) {
    return Lease.newBuilder().setID(id).setTTL(ttl).setRemainingTTL(remainingTtl).build().toByteArray();
  }

  static Lease lease(ByteBuffer value) throws IOException {
    try {
      return Lease.parseFrom(value.duplicate());
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("corrupt lease record: " + e.getMessage(), e);
    }
  }

  /** etcd's alarm key: the marshalled {@code AlarmMember} (the value is empty). */
  static byte[] alarmKey(long memberId, int type) {
    return AlarmMember.newBuilder().setMemberID(memberId).setAlarmValue(type).build().toByteArray();
  }

  static AlarmMember alarm(byte[] key) throws IOException {
    try {
      AlarmMember a = AlarmMember.parseFrom(key);
      if (a.getAlarm() == AlarmType.UNRECOGNIZED && a.getAlarmValue() == 0) {
        throw new IOException("alarm record without a type");
      }
      return a;
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("corrupt alarm record: " + e.getMessage(), e);
    }
  }

  /** {@code members}: the key of member {@code id} (Go's {@code types.ID.String()}: lower-case hex, no padding). */
  static byte[] memberKey(long id) {
    return ascii(Long.toHexString(id));
  }

  /**
   * {@code members}: etcd's JSON of a member (Go's {@code json.Marshal} of {@code membership.Member}):
   * {@code {"id":…,"peerURLs":[…],"isLearner":true,"name":…,"clientURLs":[…]}}, the learner flag,
   * the name and the client URLs left out when empty.
   */
  static byte[] memberJson(Member m) {
    StringBuilder sb = new StringBuilder(128);
    sb.append("{\"id\":").append(Long.toUnsignedString(m.getID())).append(",\"peerURLs\":");
    strings(sb, m.getPeerURLsList());
    if (m.getIsLearner()) {
      sb.append(",\"isLearner\":true");
    }
    if (!m.getName().isEmpty()) {
      sb.append(",\"name\":");
      GoJson.quote(sb, m.getName());
    }
    if (m.getClientURLsCount() > 0) {
      sb.append(",\"clientURLs\":");
      strings(sb, m.getClientURLsList());
    }
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void strings(StringBuilder sb, java.util.List<String> list) {
    if (list.isEmpty()) {
      sb.append("null");
      return;
    }
    sb.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      GoJson.quote(sb, list.get(i));
    }
    sb.append(']');
  }


  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
