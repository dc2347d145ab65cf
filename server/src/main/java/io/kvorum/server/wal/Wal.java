package io.kvorum.server.wal;

import io.kvorum.raft.Entry;
import io.kvorum.raft.HardState;
import io.kvorum.server.clock.Timing;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The write-ahead log of one member. Single writer (the raft loop). {@link #save} appends the hard
 * state and entries of one Ready in one write and, when asked, fsyncs before returning: group
 * commit comes from raft batching every proposal that arrived since the last Ready into that one
 * write.
 *
 * <p>Recovery reads the segments that may hold entries after the last snapshot, keeps the newest
 * record for each index (a new leader may have overwritten an uncommitted suffix), and cuts off a
 * torn record at the tail of the last segment. Anything else that does not check out is
 * {@link WalCorruptException}: a member never guesses about its log.
 */
public final class Wal implements Closeable {
  /** A segment is closed and a new one started past this size. */
  public static final long SEGMENT_BYTES_MAX = 64L * 1024 * 1024;

  private final WalFiles files;
  private final byte[] metadata;
  private WalFiles.Segment tail;
  private long tailSeq;
  private Timing fsyncs = Timing.NONE;
  private LongConsumer appended = n -> { };
  private long lastIndex;
  /** The tail segment's length at its last fsync: what survives a power cut ({@link #powerCut}). */
  private long tailSynced;
  private HardState state;
  private ByteBuffer buf = ByteBuffer.allocate(64 * 1024);

  /** What {@link #open} recovered. */
  public record Recovered(byte[] metadata, HardState hardState, List<Entry> entries) {}

  /** An opened WAL and what it held. */
  public record Opened(Wal wal, Recovered recovered) {}

  private Wal(WalFiles files, byte[] metadata, WalFiles.Segment tail, long tailSeq, long lastIndex, HardState state) {
    this.files = files;
    this.metadata = metadata;
    this.tail = tail;
    this.tailSeq = tailSeq;
    this.lastIndex = lastIndex;
    this.state = state;
  }

  /** True if the directory holds a WAL. */
  public static boolean exists(WalFiles files) throws IOException {
    return files.list().stream().anyMatch(WalFormat::isSegmentName);
  }

  /** Creates an empty WAL whose every segment starts with {@code metadata}. */
  public static Wal create(WalFiles files, byte[] metadata) throws IOException {
    if (exists(files)) {
      throw new IOException("wal: file already exists");
    }
    String name = WalFormat.segmentName(0, 0);
    WalFiles.Segment seg = files.create(name);
    Wal w = new Wal(files, metadata, seg, 0, 0, HardState.EMPTY);
    w.writeHeader();
    seg.force();
    w.tailSynced = seg.size();
    files.syncDirectory();
    return w;
  }

  /**
   * Opens the WAL for appending after reading everything after the snapshot at
   * ({@code snapIndex}, {@code snapTerm}); pass zeros when there is no snapshot.
   */
  public static Opened open(WalFiles files, long snapIndex, long snapTerm) throws IOException {
    List<String> names = files.list().stream().filter(WalFormat::isSegmentName).toList();
    if (names.isEmpty()) {
      throw new WalCorruptException("wal: no segment files");
    }
    for (int i = 1; i < names.size(); i++) {
      if (WalFormat.segmentSeq(names.get(i)) != WalFormat.segmentSeq(names.get(i - 1)) + 1) {
        throw new WalCorruptException("wal: segment sequence is not continuous at " + names.get(i));
      }
    }
    int start = 0;
    for (int i = 0; i < names.size(); i++) {
      if (WalFormat.segmentFirstIndex(names.get(i)) <= snapIndex) {
        start = i;
      }
    }
    if (WalFormat.segmentFirstIndex(names.get(start)) > snapIndex + 1) {
      throw new WalCorruptException("wal: entries after snapshot " + snapIndex + " are missing (first segment "
          + names.get(start) + ")");
    }
    byte[] meta = null;
    HardState hs = HardState.EMPTY;
    List<Entry> ents = new ArrayList<>();
    WalFiles.Segment last = null;
    for (int i = start; i < names.size(); i++) {
      boolean isLast = i == names.size() - 1;
      WalFiles.Segment seg = files.open(names.get(i));
      byte[] content = readFully(seg);
      ByteBuffer b = ByteBuffer.wrap(content);
      long good = 0;
      while (b.remaining() > 0) {
        long recordStart = b.position();
        ByteBuffer rec = nextRecord(b);
        if (rec == null) {
          if (!isLast) {
            seg.close();
            throw new WalCorruptException("wal: bad record at offset " + recordStart + " of " + names.get(i));
          }
          break;
        }
        good = b.position();
        byte type = rec.get();
        try {
          switch (type) {
            case WalFormat.METADATA -> {
              byte[] m = new byte[rec.remaining()];
              rec.get(m);
              if (meta != null && !Arrays.equals(meta, m)) {
                seg.close();
                throw new WalCorruptException("wal: metadata differs in " + names.get(i));
              }
              meta = m;
            }
            case WalFormat.ENTRY -> addEntry(ents, WalFormat.readEntry(rec), snapIndex);
            case WalFormat.STATE -> hs = WalFormat.readState(rec);
            case WalFormat.SNAPSHOT -> {
              long idx = rec.getLong();
              long term = rec.getLong();
              if (idx == snapIndex && snapTerm != 0 && term != snapTerm) {
                seg.close();
                throw new WalCorruptException("wal: snapshot term mismatch at " + idx + ": " + term + " != " + snapTerm);
              }
            }
            default -> {
              seg.close();
              throw new WalCorruptException("wal: unknown record type " + type + " in " + names.get(i));
            }
          }
        } catch (java.nio.BufferUnderflowException e) {
          // The CRC matched, so this is no torn write: the record is too short for its type.
          seg.close();
          throw new WalCorruptException("wal: record of type " + type + " at offset " + recordStart + " of "
              + names.get(i) + " is too short for its type (" + (rec.limit() - 1) + " payload bytes)");
        }
      }
      if (isLast) {
        if (good < content.length) {
          // A torn write from a crash: cut it off so appends continue from a clean record boundary.
          seg.truncate(good);
          seg.force();
        }
        last = seg;
      } else {
        seg.close();
      }
    }
    if (meta == null) {
      last.close();
      throw new WalCorruptException("wal: no metadata record");
    }
    long lastIdx = ents.isEmpty() ? snapIndex : ents.get(ents.size() - 1).index();
    String lastName = names.get(names.size() - 1);
    Wal w = new Wal(files, meta, last, WalFormat.segmentSeq(lastName), lastIdx, hs);
    // What recovery read may still sit in the page cache only (written before a crash that kept
    // it): it counts as synced once forced here.
    last.force();
    w.tailSynced = last.size();
    return new Opened(w, new Recovered(meta, hs, ents));
  }

  private static void addEntry(List<Entry> ents, Entry e, long snapIndex) {
    if (e.index() <= snapIndex) {
      return;
    }
    long expected = snapIndex + 1 + ents.size();
    if (e.index() > expected) {
      throw new WalCorruptException("wal: missing entries before index " + e.index() + " (expected " + expected + ")");
    }
    // A rewrite of index i drops everything from i on: the newer leader's suffix wins.
    int keep = (int) (e.index() - snapIndex - 1);
    if (keep < ents.size()) {
      ents.subList(keep, ents.size()).clear();
    }
    ents.add(e);
  }

  /** The next record's type+payload, or null when the rest is not a whole valid record. */
  private static ByteBuffer nextRecord(ByteBuffer b) {
    if (b.remaining() < WalFormat.HEADER_BYTES) {
      return null;
    }
    int start = b.position();
    int len = b.getInt();
    int crc = b.getInt();
    if (len <= 0 || len > WalFormat.RECORD_BYTES_MAX || len > b.remaining()) {
      b.position(start);
      return null;
    }
    ByteBuffer rec = b.slice(b.position(), len);
    if (WalFormat.crc(rec) != crc) {
      b.position(start);
      return null;
    }
    b.position(b.position() + len);
    return rec;
  }

  private static byte[] readFully(WalFiles.Segment seg) throws IOException {
    long size = seg.size();
    if (size > Integer.MAX_VALUE - 16) {
      throw new WalCorruptException("wal: segment too large: " + size);
    }
    ByteBuffer dst = ByteBuffer.allocate((int) size);
    long pos = 0;
    while (dst.hasRemaining()) {
      int n = seg.read(dst, pos);
      if (n < 0) {
        break;
      }
      pos += n;
    }
    return dst.array();
  }

  /**
   * Appends {@code hs} (if not null) and {@code ents}; with {@code sync} they are durable when this
   * returns.
   */
  public synchronized void save(HardState hs, List<Entry> ents, boolean sync) throws IOException {
    boolean stateChanged = hs != null && !hs.isEmpty() && !hs.equals(state);
    if (!stateChanged && ents.isEmpty()) {
      return;
    }
    int size = stateChanged ? WalFormat.HEADER_BYTES + 1 + 24 : 0;
    for (Entry e : ents) {
      size += WalFormat.HEADER_BYTES + 1 + WalFormat.entryPayloadBytes(e);
    }
    ByteBuffer b = buffer(size);
    for (Entry e : ents) {
      int at = beginRecord(b, WalFormat.ENTRY);
      WalFormat.putEntry(b, e);
      endRecord(b, at);
    }
    if (stateChanged) {
      int at = beginRecord(b, WalFormat.STATE);
      WalFormat.putState(b, hs);
      endRecord(b, at);
    }
    b.flip();
    append(b);
    if (!ents.isEmpty()) {
      lastIndex = ents.get(ents.size() - 1).index();
    }
    if (stateChanged) {
      state = hs;
    }
    if (sync && !Failpoints.on(Failpoint.BUG_ACK_BEFORE_FSYNC)) {
      fsync();
    }
    if (tail.size() >= SEGMENT_BYTES_MAX) {
      cut();
    }
  }

  /**
   * Reports every fsync of the tail segment to {@code fsyncs} (etcd's {@code wal_fsync_duration_seconds})
   * and the bytes of every append to {@code appended} (etcd's {@code wal_write_bytes_total}).
   */
  public synchronized void observe(Timing fsyncs, LongConsumer appended) {
    this.fsyncs = fsyncs;
    this.appended = appended;
  }

  private void append(ByteBuffer b) throws IOException {
    int bytes = b.remaining();
    tail.append(b);
    appended.accept(bytes);
  }

  private void fsync() throws IOException {
    Failpoints.hit(Failpoint.WAL_FSYNC);
    long start = fsyncs.start();
    long size = tail.size();
    tail.force();
    fsyncs.stop(start);
    tailSynced = size;
  }

  /**
   * The WAL's part of an emulated power cut ({@link Failpoint#RAFT_POWER_CUT}): the tail segment
   * loses every byte written after its last fsync, as the page cache would. Earlier segments were
   * fsynced when they were cut. The process halts right after; nothing is written again.
   */
  public synchronized void powerCut() {
    try {
      tail.truncate(tailSynced);
      tail.force();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Records that a snapshot at ({@code index}, {@code term}) is durable; fsyncs. */
  public synchronized void saveSnapshot(long index, long term) throws IOException {
    ByteBuffer b = buffer(WalFormat.HEADER_BYTES + 17);
    int at = beginRecord(b, WalFormat.SNAPSHOT);
    b.putLong(index).putLong(term);
    endRecord(b, at);
    b.flip();
    append(b);
    fsync();
  }

  /** Deletes the segments that hold only entries before {@code index} (after a durable snapshot). */
  public synchronized void releaseTo(long index) throws IOException {
    releaseTo(index, 1);
  }

  /**
   * Deletes the oldest segments that hold only entries before {@code index} (after a durable
   * snapshot) while more than {@code filesMax} segments remain (etcd's {@code --max-wals}); 0 keeps
   * every segment. Segments a restart still needs are never deleted, whatever {@code filesMax} says.
   */
  public synchronized void releaseTo(long index, int filesMax) throws IOException {
    if (filesMax == 0) {
      return;
    }
    List<String> names = files.list().stream().filter(WalFormat::isSegmentName).toList();
    int keepFrom = 0;
    for (int i = 0; i < names.size(); i++) {
      if (WalFormat.segmentFirstIndex(names.get(i)) <= index) {
        keepFrom = i;
      }
    }
    keepFrom = Math.min(keepFrom, Math.max(0, names.size() - filesMax));
    boolean deleted = false;
    for (int i = 0; i < keepFrom && WalFormat.segmentSeq(names.get(i)) < tailSeq; i++) {
      files.delete(names.get(i));
      deleted = true;
    }
    if (deleted) {
      files.syncDirectory();
    }
  }

  public synchronized long lastIndex() {
    return lastIndex;
  }

  private void cut() throws IOException {
    fsync();
    tail.close();
    tailSeq++;
    tail = files.create(WalFormat.segmentName(tailSeq, lastIndex + 1));
    writeHeader();
    fsync();
    files.syncDirectory();
  }

  /** Writes METADATA and the current STATE at the start of a segment. */
  private void writeHeader() throws IOException {
    ByteBuffer b = buffer(WalFormat.HEADER_BYTES * 2 + 2 + metadata.length + 24);
    int at = beginRecord(b, WalFormat.METADATA);
    b.put(metadata);
    endRecord(b, at);
    if (!state.isEmpty()) {
      at = beginRecord(b, WalFormat.STATE);
      WalFormat.putState(b, state);
      endRecord(b, at);
    }
    b.flip();
    append(b);
  }

  private ByteBuffer buffer(int size) {
    if (buf.capacity() < size) {
      buf = ByteBuffer.allocate(Math.max(size, buf.capacity() * 2));
    }
    buf.clear();
    return buf;
  }

  private static int beginRecord(ByteBuffer b, byte type) {
    int at = b.position();
    b.position(at + WalFormat.HEADER_BYTES);
    b.put(type);
    return at;
  }

  private static void endRecord(ByteBuffer b, int at) {
    int end = b.position();
    int len = end - at - WalFormat.HEADER_BYTES;
    int crc = WalFormat.crc(b.slice(at + WalFormat.HEADER_BYTES, len));
    b.putInt(at, len);
    b.putInt(at + 4, crc);
  }

  @Override
  public synchronized void close() throws IOException {
    tail.close();
  }
}
