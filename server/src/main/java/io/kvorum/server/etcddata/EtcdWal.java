package io.kvorum.server.etcddata;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdinternalpb.Metadata;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.HardState;
import io.kvorum.proto.walpb.Record;
import io.kvorum.proto.walpb.Snapshot;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An etcd 3.4 WAL directory ({@code member/wal}), read the way etcd's {@code wal.ReadAll} reads it,
 * without writing a byte.
 *
 * <p>Design. A WAL is a sequence of files {@code %016x-%016x.wal} (sequence number, index of the
 * first entry the file may hold) with consecutive sequence numbers. Each file is a run of frames:
 * an 8-byte little-endian word whose low 56 bits are the record's length and whose top bit, when
 * set, says bits 56..58 hold the count of zero bytes padding the record to 8 bytes; then the
 * marshalled {@code walpb.Record}. A zero word is preallocated space: the end of that file. Every
 * record except a crc record carries the CRC-32C of all record data since the chain began (one
 * chain across files); a crc record, first in each file, restates the value the previous file
 * ended with and seeds the chain for the next records. The first file read has nothing to check
 * its crc record against (etcd skips the check when its running value is still zero).
 *
 * <p>A write torn by a crash can only be at the end of the newest file: there a short record, or
 * one whose bad CRC or bad protobuf coincides with an all-zero 512-byte sector, ends the log
 * (etcd repairs it by truncation; we stop reading). Anywhere else the same is corruption, and so
 * are an unknown record type, disagreeing metadata, a gap in the file sequence and a record longer
 * than {@link #RECORD_BYTES_MAX}: all are {@link EtcdDataException}s, never partial results.
 *
 * <p>Unlike etcd, which opens only the files from the one holding its snapshot onwards, every file
 * present is read and checked: corruption in a file older than the snapshot is refused here too.
 *
 * <p>Entries are kept in the order they were written; {@link #entriesAfter} replays etcd's rule
 * that a later entry at an index replaces the earlier one and everything after it (a new leader
 * overwrote an uncommitted tail).
 */
public final class EtcdWal {
  /** etcd's {@code maxWALEntrySizeLimit}: a longer record is refused, never allocated. */
  public static final int RECORD_BYTES_MAX = 10 * 1024 * 1024;
  /** More WAL files than this in one directory is refused rather than opened. */
  public static final int FILES_MAX = 100_000;

  static final int METADATA_TYPE = 1;
  static final int ENTRY_TYPE = 2;
  static final int STATE_TYPE = 3;
  static final int CRC_TYPE = 4;
  static final int SNAPSHOT_TYPE = 5;
  static final int FRAME_WORD_BYTES = 8;
  /** A torn write is detected per disk sector, as etcd's decoder does ({@code minSectorSize}). */
  static final int SECTOR_BYTES = 512;

  private static final Pattern NAME = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.wal");

  /** A snapshot record: the raft snapshot etcd took at (index, term). */
  public record Marker(long index, long term) {}

  private final List<Path> files;
  private final long memberId;
  private final long clusterId;
  private final HardState hardState;
  private final List<Marker> snapshots;
  private final List<Entry> entries;
  private final boolean tornTail;

  private EtcdWal(List<Path> files, Metadata metadata, HardState hardState, List<Marker> snapshots,
      List<Entry> entries, boolean tornTail) {
    this.files = List.copyOf(files);
    this.memberId = metadata.getNodeID();
    this.clusterId = metadata.getClusterID();
    this.hardState = hardState;
    this.snapshots = List.copyOf(snapshots);
    this.entries = List.copyOf(entries);
    this.tornTail = tornTail;
  }

  /** The WAL files of {@code walDir}, in sequence order; refuses a gap in the sequence. */
  public static List<Path> files(Path walDir) throws EtcdDataException {
    List<Path> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(walDir)) {
      for (Path p : ds) {
        if (NAME.matcher(p.getFileName().toString()).matches()) {
          if (names.size() == FILES_MAX) {
            throw new EtcdDataException(walDir + ": more than " + FILES_MAX + " WAL files");
          }
          names.add(p);
        }
      }
    } catch (IOException e) {
      throw new EtcdDataException(walDir + ": cannot list the WAL directory: " + e.getMessage(), e);
    }
    names.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    if (names.isEmpty()) {
      throw new EtcdDataException(walDir + ": no WAL files (%016x-%016x.wal)");
    }
    long first = seq(names.get(0));
    for (int i = 1; i < names.size(); i++) {
      if (seq(names.get(i)) != first + i) {
        throw new EtcdDataException(walDir + ": WAL file sequence has a gap before " + names.get(i).getFileName());
      }
    }
    return names;
  }

  private static long seq(Path p) {
    Matcher m = NAME.matcher(p.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalStateException("not a WAL file name: " + p);
    }
    return Long.parseUnsignedLong(m.group(1), 16);
  }

  /** Reads every WAL file of {@code walDir}. */
  public static EtcdWal read(Path walDir) throws EtcdDataException {
    List<Path> files = files(walDir);
    Decoder d = new Decoder();
    for (int i = 0; i < files.size() && !d.torn; i++) {
      d.readFile(files.get(i), i == files.size() - 1);
    }
    if (d.metadata == null) {
      throw new EtcdDataException(walDir + ": no metadata record in the WAL");
    }
    Metadata metadata;
    try {
      metadata = Metadata.parseFrom(d.metadata);
    } catch (InvalidProtocolBufferException e) {
      throw new EtcdDataException(walDir + ": WAL metadata does not decode: " + e.getMessage(), e);
    }
    return new EtcdWal(files, metadata, d.state, d.snapshots, d.entries, d.torn);
  }

  public List<Path> files() {
    return files;
  }

  /** The member's id, from the metadata record. */
  public long memberId() {
    return memberId;
  }

  public long clusterId() {
    return clusterId;
  }

  /** The last state record; the default instance if there is none. */
  public HardState hardState() {
    return hardState;
  }

  /** The snapshot records, in the order written (the first file's (0, 0) included). */
  public List<Marker> snapshots() {
    return snapshots;
  }

  /** Whether the newest file ended in a torn record, which was dropped as etcd's repair would. */
  public boolean tornTail() {
    return tornTail;
  }

  /**
   * The entries after {@code snapshot}, with later writes of an index replacing the earlier entry
   * and all after it, as etcd's {@code ReadAll}. {@code snapshot} must be one of
   * {@link #snapshots()} (etcd's ErrSnapshotNotFound otherwise), and the entries must continue from
   * it without a gap.
   */
  public List<Entry> entriesAfter(Marker snapshot) throws EtcdDataException {
    boolean found = false;
    for (Marker m : snapshots) {
      if (m.index() == snapshot.index()) {
        if (m.term() != snapshot.term()) {
          throw new EtcdDataException("WAL snapshot record at index " + m.index() + " has term " + m.term()
              + ", the snapshot has term " + snapshot.term());
        }
        found = true;
      }
    }
    if (!found) {
      throw new EtcdDataException("WAL has no snapshot record at index " + snapshot.index() + " term " + snapshot.term());
    }
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries) {
      if (e.getIndex() <= snapshot.index()) {
        continue;
      }
      long up = e.getIndex() - snapshot.index() - 1;
      if (up > out.size()) {
        throw new EtcdDataException("WAL entry " + e.getIndex() + " follows index "
            + (snapshot.index() + out.size()) + ": a gap in the log");
      }
      out.subList((int) up, out.size()).clear();
      out.add(e);
    }
    return out;
  }

  /** The reading state carried across files: the CRC chain, and what was found so far. */
  private static final class Decoder {
    int crc;
    byte[] metadata;
    HardState state = HardState.getDefaultInstance();
    final List<Marker> snapshots = new ArrayList<>();
    final List<Entry> entries = new ArrayList<>();
    boolean torn;

    void readFile(Path file, boolean last) throws EtcdDataException {
      try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
        long offset = 0;
        byte[] word = new byte[FRAME_WORD_BYTES];
        while (true) {
          int n = in.readNBytes(word, 0, FRAME_WORD_BYTES);
          if (n == 0) {
            return;
          }
          if (n < FRAME_WORD_BYTES) {
            tornOrCorrupt(file, last, offset, "a frame's length word is cut short");
            return;
          }
          long lenField = littleEndian(word);
          if (lenField == 0) {
            return;
          }
          long recBytes = lenField & 0x00FF_FFFF_FFFF_FFFFL;
          int padBytes = lenField < 0 ? (int) ((lenField >>> 56) & 0x7) : 0;
          if (recBytes >= RECORD_BYTES_MAX - padBytes) {
            throw new EtcdDataException(file + " at offset " + offset + ": record of " + recBytes
                + " bytes exceeds the limit of " + RECORD_BYTES_MAX);
          }
          byte[] data = in.readNBytes((int) recBytes + padBytes);
          if (data.length < recBytes + padBytes) {
            tornOrCorrupt(file, last, offset, "the last record is cut short");
            return;
          }
          Record rec;
          try {
            rec = Record.parseFrom(ByteString.copyFrom(data, 0, (int) recBytes));
          } catch (InvalidProtocolBufferException e) {
            if (last && isTorn(data, offset)) {
              torn = true;
              return;
            }
            throw new EtcdDataException(file + " at offset " + offset + ": record does not decode: " + e.getMessage(), e);
          }
          byte[] recData = rec.getData().toByteArray();
          if (rec.getType() != CRC_TYPE) {
            crc = Crc32c.update(crc, recData);
            if (rec.getCrc() != crc) {
              if (last && isTorn(data, offset)) {
                torn = true;
                return;
              }
              throw new EtcdDataException(String.format(Locale.ROOT, "%s at offset %d: CRC mismatch (record %08x, chain %08x)",
                  file, offset, rec.getCrc(), crc));
            }
          }
          apply(file, offset, rec, recData);
          offset += FRAME_WORD_BYTES + recBytes + padBytes;
        }
      } catch (IOException e) {
        throw new EtcdDataException(file + ": cannot read: " + e.getMessage(), e);
      }
    }

    private void tornOrCorrupt(Path file, boolean last, long offset, String what) throws EtcdDataException {
      if (!last) {
        throw new EtcdDataException(file + " at offset " + offset + ": " + what + " in a WAL file that is not the newest");
      }
      torn = true;
    }

    private void apply(Path file, long offset, Record rec, byte[] data) throws EtcdDataException {
      if (rec.getType() < METADATA_TYPE || rec.getType() > SNAPSHOT_TYPE) {
        throw new EtcdDataException(file + " at offset " + offset + ": unexpected record type " + rec.getType());
      }
      try {
        switch ((int) rec.getType()) {
          case ENTRY_TYPE -> entries.add(Entry.parseFrom(data));
          case STATE_TYPE -> state = HardState.parseFrom(data);
          case METADATA_TYPE -> {
            if (metadata != null && !Arrays.equals(metadata, data)) {
              throw new EtcdDataException(file + " at offset " + offset + ": WAL metadata conflicts with an earlier file's");
            }
            metadata = data;
          }
          case CRC_TYPE -> {
            if (crc != 0 && rec.getCrc() != crc) {
              throw new EtcdDataException(String.format(Locale.ROOT,
                  "%s at offset %d: crc record %08x does not continue the chain %08x", file, offset, rec.getCrc(), crc));
            }
            crc = rec.getCrc();
          }
          case SNAPSHOT_TYPE -> {
            Snapshot s = Snapshot.parseFrom(data);
            snapshots.add(new Marker(s.getIndex(), s.getTerm()));
          }
          default -> throw new EtcdDataException(file + " at offset " + offset + ": unexpected record type " + rec.getType());
        }
      } catch (InvalidProtocolBufferException e) {
        throw new EtcdDataException(file + " at offset " + offset + ": record of type " + rec.getType()
            + " does not decode: " + e.getMessage(), e);
      }
    }

    /**
     * etcd's {@code isTornEntry}: the frame (after its length word at {@code frameOffset}) split at
     * sector boundaries has a sector chunk of zeros only — a write the disk did not finish.
     */
    private static boolean isTorn(byte[] data, long frameOffset) {
      long fileOff = frameOffset + FRAME_WORD_BYTES;
      int cur = 0;
      while (cur < data.length) {
        int chunk = (int) Math.min(SECTOR_BYTES - (fileOff % SECTOR_BYTES), data.length - cur);
        boolean zero = true;
        for (int i = cur; i < cur + chunk; i++) {
          if (data[i] != 0) {
            zero = false;
            break;
          }
        }
        if (zero) {
          return true;
        }
        fileOff += chunk;
        cur += chunk;
      }
      return false;
    }

    private static long littleEndian(byte[] b) {
      long v = 0;
      for (int i = FRAME_WORD_BYTES - 1; i >= 0; i--) {
        v = (v << 8) | (b[i] & 0xff);
      }
      return v;
    }
  }
}
