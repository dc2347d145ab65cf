package io.kvorum.server.storage;

import java.nio.charset.StandardCharsets;

/**
 * Every name and byte layout the backend puts on disk, in one place.
 *
 * <h2>Column families (buckets)</h2>
 *
 * <p>One RocksDB column family per {@link Bucket}. RocksDB's own {@code default} family exists
 * because RocksDB requires it and holds nothing. Keys in every family compare as unsigned bytes
 * (RocksDB's bytewise comparator), so big-endian integers sort numerically.
 *
 * <h3>{@code key}: the multi-version key space</h3>
 *
 * <p>One entry per revision of any key (etcd's bolt bucket {@code "key"}).
 *
 * <pre>
 * key (17 bytes, a live revision):
 *   bytes 0..7   main revision, signed 64-bit big-endian (always &gt;= 1, so it sorts as unsigned)
 *   byte  8      '_' (0x5f)
 *   bytes 9..16  sub revision, signed 64-bit big-endian (&gt;= 0)
 * key (18 bytes, a tombstone: the revision that deleted the key):
 *   bytes 0..16  as above
 *   byte  17     't' (0x74)
 * value:
 *   a marshalled mvccpb.KeyValue (proto3, fields in number order, zero values omitted).
 *   For a live revision: key, create_revision, mod_revision, version, value, lease.
 *   For a tombstone: only the key.
 * </pre>
 *
 * <p>The ordering is revision order, and a tombstone key sorts right after the 17-byte prefix it
 * extends. The codec for these keys is {@code io.kvorum.server.mvcc.Revision}; the layout is
 * etcd 3.4's byte for byte, which is what makes {@code HashKV} agree with etcd.
 *
 * <h3>{@code meta}: what the store knows about itself</h3>
 *
 * <pre>
 * "schema_version"   8 bytes: signed 64-bit big-endian, {@link #SCHEMA_VERSION}; written on create
 * "consistent_index" 8 bytes: unsigned 64-bit big-endian, the raft index of the last applied entry
 *                    whose effects are in the backend; written in the same batch as those effects
 * "term"             8 bytes: unsigned 64-bit big-endian, the raft term of that entry
 * </pre>
 *
 * <h3>{@code compaction}: MVCC compaction bookkeeping</h3>
 *
 * <pre>
 * "scheduledCompactRev" 8 bytes: signed 64-bit big-endian main revision of the newest compaction
 *                       accepted (logical compaction done, physical deletion may be running)
 * "finishedCompactRev"  8 bytes: signed 64-bit big-endian main revision of the newest compaction
 *                       whose physical deletion finished; written in the same batch as its last
 *                       deletions
 * </pre>
 *
 * <p>A store that finds {@code scheduledCompactRev > finishedCompactRev} on open finishes that
 * compaction.
 *
 * <h3>{@code lease}: granted leases</h3>
 *
 * <pre>
 * key:   8 bytes, the lease id, signed 64-bit big-endian (ids are positive)
 * value: 16 bytes: granted TTL in seconds, then the last checkpointed remaining TTL in seconds
 *        (0 when none), each signed 64-bit big-endian
 * </pre>
 *
 * <p>Written in the same batch as the consistent index of the entry that granted, checkpointed or
 * revoked the lease (a revocation deletes the record in the batch that deletes its keys).
 *
 * <h3>{@code auth}, {@code authUsers}, {@code authRoles}: access control (etcd's bolt buckets of
 * the same names)</h3>
 *
 * <pre>
 * auth/"authEnabled"   1 byte: 1 while auth is enabled, 0 after it was disabled (absent: never enabled)
 * auth/"authRevision"  8 bytes: unsigned 64-bit big-endian, the auth store's revision (absent: 1)
 * authUsers/name       a marshalled authpb.User: name, bcrypt hash ("$2a$..."; empty for a user
 *                      created with no password), roles (sorted), options
 * authRoles/name       a marshalled authpb.Role: name, key permissions sorted by key
 * </pre>
 *
 * <p>Written only by applying auth entries, in the batch of the entry's consistent index.
 *
 * <h3>{@code alarm}: raised alarms (etcd's bolt bucket of the same name)</h3>
 *
 * <pre>
 * key:   12 bytes: the member id the alarm is raised for, unsigned 64-bit big-endian, then the
 *        alarm type's number (etcdserverpb.AlarmType: 1 NOSPACE, 2 CORRUPT; another number is kept
 *        as it came), signed 32-bit big-endian
 * value: empty
 * </pre>
 *
 * <p>Written only by applying alarm entries, in the batch of the entry's consistent index.
 *
 * <h2>The backend hash (etcd's {@code Maintenance.Hash})</h2>
 *
 * <p>CRC-32C (Castagnoli) over, for each bucket in unsigned order of its disk name ({@code alarm}, {@code auth},
 * {@code authRoles}, {@code authUsers}, {@code compaction}, {@code key}, {@code lease}, {@code
 * meta}: the order of bolt's root cursor in etcd), the disk name, then every key and its value in
 * key order. RocksDB's {@code default} family holds nothing and is not part of it.
 *
 * <p>Two keys are left out, those {@link #leftOutOfHash} names: {@code meta/consistent_index} and
 * {@code meta/term}, the raft position of the last entry that wrote to the backend. etcd 3.4 leaves
 * out its {@code consistent_index} the same way ({@code mvcc.DefaultIgnores}; 3.5 adds {@code
 * term}). Both are written only together with an entry's effects, so members that applied the same
 * entries hold the same position and including it would not break equality today; leaving it out
 * keeps the hash a function of the replicated data alone, so it moves exactly when data change and
 * its equality across members does not rest on every path that records the position doing so at
 * the same entries on every member. Every other key is written only by applying entries (or is
 * derived from the same configuration on every member, like {@code schema_version}), with one
 * exception etcd shares: physical compaction (old revisions in {@code key}, {@code
 * finishedCompactRev}) runs in the background on each member, so hashes are comparable once it has
 * finished everywhere.
 *
 * <h2>Adding a bucket</h2>
 *
 * <p>Add an enum constant and document its keys and values here. Opening creates a missing family;
 * an older binary refuses a database that holds a family it does not know (see
 * {@link Backend#open}), and {@link #SCHEMA_VERSION} goes up whenever an existing layout changes.
 */
public final class Schema {
  private Schema() {}

  /** The layout version this code writes and reads; a database with another one is refused. */
  public static final long SCHEMA_VERSION = 1;

  /** A column family and the name it has on disk. */
  public enum Bucket {
    /** Revisions of every key: revision key to marshalled {@code mvccpb.KeyValue}. */
    KEY("key"),
    /** The store's own facts: schema version, consistent index and term. */
    META("meta"),
    /** Scheduled and finished MVCC compaction revisions. */
    COMPACTION("compaction"),
    /** Granted leases: lease id to granted and checkpointed TTL. */
    LEASE("lease"),
    /** Whether auth is enabled, and the auth store's revision. */
    AUTH("auth"),
    /** Users: name to marshalled {@code authpb.User}. */
    AUTH_USERS("authUsers"),
    /** Roles: name to marshalled {@code authpb.Role}. */
    AUTH_ROLES("authRoles"),
    /** Raised alarms: member id and alarm type, no value. */
    ALARM("alarm");

    private final String diskName;

    Bucket(String diskName) {
      this.diskName = diskName;
    }

    /** The column family name on disk. */
    public String diskName() {
      return diskName;
    }

    /** The bucket named {@code name} on disk, or null. */
    public static Bucket byDiskName(String name) {
      for (Bucket b : values()) {
        if (b.diskName.equals(name)) {
          return b;
        }
      }
      return null;
    }

    byte[] diskNameBytes() {
      return diskName.getBytes(StandardCharsets.UTF_8);
    }
  }

  static final byte[] META_SCHEMA_VERSION = ascii("schema_version");
  static final byte[] META_CONSISTENT_INDEX = ascii("consistent_index");
  static final byte[] META_TERM = ascii("term");
  private static final byte[] COMPACTION_SCHEDULED = ascii("scheduledCompactRev");
  private static final byte[] COMPACTION_FINISHED = ascii("finishedCompactRev");

  /**
   * META keys {@code member/<16 hex id>} held each member's published attributes (name, client
   * URLs) before the whole membership was stored under {@link #membershipKey()}; still read.
   */
  private static final byte[] MEMBER_PREFIX = ascii("member/");
  /** META key of the applied membership (a {@code MembershipRecord}), rewritten by every change. */
  private static final byte[] MEMBERSHIP = ascii("membership");

  public static byte[] membershipKey() {
    return MEMBERSHIP.clone();
  }

  /** {@link Bucket#META}: the key of the consistent index (8 bytes, unsigned big-endian). */
  public static byte[] consistentIndexKey() {
    return META_CONSISTENT_INDEX.clone();
  }

  /** {@link Bucket#META}: the key of the consistent index's term (8 bytes, unsigned big-endian). */
  public static byte[] termKey() {
    return META_TERM.clone();
  }

  /** {@link Bucket#META}: the key of the schema version (8 bytes, {@link #SCHEMA_VERSION}). */
  public static byte[] schemaVersionKey() {
    return META_SCHEMA_VERSION.clone();
  }

  public static byte[] memberKey(long id) {
    return ascii(String.format(java.util.Locale.ROOT, "member/%016x", id));
  }

  public static byte[] memberKeysFrom() {
    return MEMBER_PREFIX.clone();
  }

  /** The end (exclusive) of the member keys: '/' + 1 is '0'. */
  public static byte[] memberKeysEnd() {
    return ascii("member0");
  }

  /** {@link Bucket#COMPACTION}: the key of the newest accepted compaction revision. */
  public static byte[] compactionScheduledKey() {
    return COMPACTION_SCHEDULED.clone();
  }

  /** {@link Bucket#COMPACTION}: the key of the newest compaction revision physically finished. */
  public static byte[] compactionFinishedKey() {
    return COMPACTION_FINISHED.clone();
  }

  /** {@link Bucket#LEASE}: the key of lease {@code id}. */
  public static byte[] leaseKey(long id) {
    return longBytes(id);
  }

  /** Bytes one lease's record takes: its 8-byte key and its 16-byte value. */
  public static final int LEASE_RECORD_BYTES = 8 + 16;

  /** {@link Bucket#LEASE}: the value of a lease record. */
  public static byte[] leaseValue(long ttl, long remainingTtl) {
    byte[] out = new byte[2 * LONG_BYTES];
    System.arraycopy(longBytes(ttl), 0, out, 0, LONG_BYTES);
    System.arraycopy(longBytes(remainingTtl), 0, out, LONG_BYTES, LONG_BYTES);
    return out;
  }

  /** Decodes a lease record: {ttl, remainingTtl}. */
  public static long[] readLeaseValue(byte[] v) {
    if (v.length != 2 * LONG_BYTES) {
      throw new StorageException("storage: lease record has " + v.length + " bytes, expected " + 2 * LONG_BYTES);
    }
    return new long[] {readLong(java.util.Arrays.copyOfRange(v, 0, LONG_BYTES), "lease ttl"),
        readLong(java.util.Arrays.copyOfRange(v, LONG_BYTES, 2 * LONG_BYTES), "lease remaining ttl")};
  }

  private static final byte[] AUTH_ENABLED = ascii("authEnabled");
  private static final byte[] AUTH_REVISION = ascii("authRevision");

  /** {@link Bucket#AUTH}: the key of the enabled flag (one byte, 1 or 0). */
  public static byte[] authEnabledKey() {
    return AUTH_ENABLED.clone();
  }

  /** {@link Bucket#AUTH}: the key of the auth revision (8 bytes, big-endian). */
  public static byte[] authRevisionKey() {
    return AUTH_REVISION.clone();
  }

  /** Length of every 64-bit integer value in {@code meta} and {@code compaction}. */
  public static final int LONG_BYTES = 8;

  /**
   * Bytes of the records every applied-to backend holds in {@link Bucket#META} whatever its data:
   * the schema version, the consistent index and the term.
   */
  public static final int META_RECORDS_BYTES = META_SCHEMA_VERSION.length + META_CONSISTENT_INDEX.length
      + META_TERM.length + 3 * LONG_BYTES;

  /** Length of an {@link Bucket#ALARM} key. */
  public static final int ALARM_KEY_BYTES = LONG_BYTES + Integer.BYTES;

  /** {@link Bucket#ALARM}: the key of alarm {@code type} raised for member {@code memberId}. */
  public static byte[] alarmKey(long memberId, int type) {
    byte[] out = new byte[ALARM_KEY_BYTES];
    System.arraycopy(longBytes(memberId), 0, out, 0, LONG_BYTES);
    for (int i = ALARM_KEY_BYTES - 1; i >= LONG_BYTES; i--) {
      out[i] = (byte) type;
      type >>>= 8;
    }
    return out;
  }

  /** Decodes an {@link Bucket#ALARM} key: {memberId, type}. */
  public static long[] readAlarmKey(byte[] key) {
    if (key.length != ALARM_KEY_BYTES) {
      throw new StorageException("storage: alarm key has " + key.length + " bytes, expected " + ALARM_KEY_BYTES);
    }
    int type = 0;
    for (int i = LONG_BYTES; i < ALARM_KEY_BYTES; i++) {
      type = (type << 8) | (key[i] & 0xff);
    }
    return new long[] {readLong(java.util.Arrays.copyOf(key, LONG_BYTES), "alarm member id"), type};
  }

  /** Encodes {@code value} as 8 big-endian bytes. */
  public static byte[] longBytes(long value) {
    byte[] out = new byte[LONG_BYTES];
    for (int i = LONG_BYTES - 1; i >= 0; i--) {
      out[i] = (byte) value;
      value >>>= 8;
    }
    return out;
  }

  /**
   * Decodes 8 big-endian bytes written by {@link #longBytes}.
   *
   * @throws StorageException if {@code bytes} is not exactly 8 bytes long
   */
  public static long readLong(byte[] bytes, String what) {
    if (bytes.length != LONG_BYTES) {
      throw new StorageException(
          "storage: " + what + " has " + bytes.length + " bytes, expected " + LONG_BYTES);
    }
    long v = 0;
    for (byte b : bytes) {
      v = (v << 8) | (b & 0xff);
    }
    return v;
  }

  /** The consistent index stored as {@code index} and {@code term} (either null when absent). */
  static ConsistentIndex readConsistentIndex(byte[] index, byte[] term) {
    if (index == null) {
      return ConsistentIndex.ZERO;
    }
    return new ConsistentIndex(readLong(index, "consistent_index"), term == null ? 0 : readLong(term, "term"));
  }

  /**
   * Whether the backend hash leaves out {@code key} of {@code bucket}: the raft position, which says
   * where in the log the member is rather than what it holds (see the class note).
   */
  static boolean leftOutOfHash(Bucket bucket, byte[] key) {
    return bucket == Bucket.META
        && (java.util.Arrays.equals(key, META_CONSISTENT_INDEX) || java.util.Arrays.equals(key, META_TERM));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
