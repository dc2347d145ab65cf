package io.kvorum.server.wal;

import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * Every byte layout of the WAL, in one place. All integers are big-endian.
 *
 * <pre>
 * segment file name: %016x-%016x.wal  (sequence number, first raft index the segment may hold)
 * record:   u32 length (of type + payload) | u32 crc32c (of type + payload) | u8 type | payload
 * METADATA: opaque bytes (the member and cluster ids), first record of every segment
 * ENTRY:    u64 term | u64 index | u8 entry type (0 normal, 1 conf change) | data
 * STATE:    u64 term | u64 vote | u64 commit
 * SNAPSHOT: u64 index | u64 term   (the log is complete from index + 1)
 * </pre>
 *
 * A record whose length runs past the end of the last segment, or whose CRC does not match there,
 * is a torn write of a crash and is cut off on open. The same in an earlier segment is corruption.
 */
final class WalFormat {
  static final byte METADATA = 1;
  static final byte ENTRY = 2;
  static final byte STATE = 3;
  static final byte SNAPSHOT = 4;

  static final int HEADER_BYTES = 8;
  /** Bound on one record, so a corrupt length cannot make us allocate without limit. */
  static final int RECORD_BYTES_MAX = 64 * 1024 * 1024;
  static final String SUFFIX = ".wal";

  private WalFormat() {}

  static String segmentName(long seq, long firstIndex) {
    return String.format(Locale.ROOT, "%016x-%016x%s", seq, firstIndex, SUFFIX);
  }

  static boolean isSegmentName(String name) {
    return name.length() == 37 && name.endsWith(SUFFIX) && name.charAt(16) == '-';
  }

  static long segmentSeq(String name) {
    return Long.parseUnsignedLong(name.substring(0, 16), 16);
  }

  static long segmentFirstIndex(String name) {
    return Long.parseUnsignedLong(name.substring(17, 33), 16);
  }

  static int crc(ByteBuffer typeAndPayload) {
    CRC32C c = new CRC32C();
    c.update(typeAndPayload.duplicate());
    return (int) c.getValue();
  }

  static int entryPayloadBytes(Entry e) {
    return 17 + e.data().length;
  }

  static void putEntry(ByteBuffer b, Entry e) {
    b.putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal()).put(e.data());
  }

  static Entry readEntry(ByteBuffer p) {
    long term = p.getLong();
    long index = p.getLong();
    int type = p.get();
    if (type < 0 || type >= EntryType.values().length) {
      throw new WalCorruptException("unknown entry type " + type + " at index " + index);
    }
    byte[] data = new byte[p.remaining()];
    p.get(data);
    return new Entry(term, index, EntryType.values()[type], data);
  }

  static void putState(ByteBuffer b, HardState hs) {
    b.putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit());
  }

  static HardState readState(ByteBuffer p) {
    return new HardState(p.getLong(), p.getLong(), p.getLong());
  }
}
