package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.server.mvcc.KeyRange;

/**
 * The keys elections and locks live under, as etcd's {@code clientv3/concurrency} lays them out:
 * the candidates (or waiters) of {@code name} are the keys {@code name/<lease id in hex>}, each
 * attached to its lease, and the one created first leads (or holds the lock).
 */
final class ElectionKeys {
  private static final ByteString SLASH = ByteString.copyFromUtf8("/");
  /** clientv3's range end when no prefix end exists: every key from the start key on. */
  private static final ByteString NO_PREFIX_END = ByteString.copyFrom(new byte[] {0});

  private ElectionKeys() {}

  /** The prefix of election or lock {@code name}: {@code name/}. */
  static ByteString prefix(ByteString name) {
    return name.concat(SLASH);
  }

  /** The key of the candidate holding {@code lease} under {@code prefix}. */
  static ByteString candidate(ByteString prefix, long lease) {
    return prefix.concat(ByteString.copyFromUtf8(hex(lease)));
  }

  /** Go's {@code %x} of a signed lease id: lower-case hex digits, a minus sign before a negative one. */
  static String hex(long lease) {
    // Long.toHexString reads its argument as unsigned, so -Long.MIN_VALUE prints as Go prints it.
    return lease < 0 ? "-" + Long.toHexString(-lease) : Long.toHexString(lease);
  }

  /**
   * clientv3's {@code WithPrefix} range end: the prefix with its last byte below 0xff incremented
   * ({@link KeyRange#prefix}), or {@code \0} (clientv3's "every key from the start key on") when
   * there is none.
   */
  static ByteString prefixEnd(ByteString prefix) {
    KeyRange r = KeyRange.prefix(prefix);
    return r.isUnbounded() ? NO_PREFIX_END : r.end();
  }

  /** clientv3's {@code WithFirstCreate}: the oldest key under {@code prefix} (the leader, the lock's holder). */
  static RangeRequest oldest(ByteString prefix) {
    return byCreateRevision(prefix, RangeRequest.SortOrder.ASCEND).build();
  }

  /**
   * clientv3's {@code WithLastCreate} with {@code WithMaxCreateRev}: the newest key under {@code
   * prefix} created at or before {@code maxCreateRev}.
   */
  static RangeRequest newestUpTo(ByteString prefix, long maxCreateRev) {
    return byCreateRevision(prefix, RangeRequest.SortOrder.DESCEND).setMaxCreateRevision(maxCreateRev).build();
  }

  private static RangeRequest.Builder byCreateRevision(ByteString prefix, RangeRequest.SortOrder order) {
    return RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix)).setLimit(1)
        .setSortTarget(RangeRequest.SortTarget.CREATE).setSortOrder(order);
  }
}
