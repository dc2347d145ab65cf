package io.kvorum.server.wal;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import io.kvorum.server.clock.Timing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Raft snapshot files in the member's {@code snap} directory: the snapshot's metadata (index, term,
 * configuration) and its opaque data. The application state itself lives in the backend; the data
 * here is what raft needs to hand a snapshot to a follower.
 *
 * <pre>
 * name:    %016x-%016x.snap (term, index)
 * content: u32 crc32c (of the rest) | u64 index | u64 term | confstate | u32 dataLen | data
 * confstate: 4 × (u32 n, n × u64 id) for voters, learners, votersOutgoing, learnersNext | u8 autoLeave
 * </pre>
 *
 * Written to a temporary name, fsynced and renamed, so a crash leaves either the whole file or
 * none. A file that fails its CRC is renamed to {@code .broken} and an older one is used.
 */
public final class SnapshotFiles {
  private static final String SUFFIX = ".snap";
  /** Keep this many newest snapshot files (etcd's {@code --max-snapshots} default); older ones are deleted. */
  static final int RETAINED_MAX = 5;

  private final Path dir;
  private final int filesMax;

  private volatile Timing fsyncs = Timing.NONE;

  public SnapshotFiles(Path dir) throws IOException {
    this(dir, RETAINED_MAX);
  }

  /** Snapshot files in {@code dir}, keeping the {@code filesMax} newest ones (0: all). */
  public SnapshotFiles(Path dir, int filesMax) throws IOException {
    this.dir = dir;
    this.filesMax = filesMax;
    Files.createDirectories(dir);
  }

  /** Reports the fsync of every snapshot file saved to {@code fsyncs} (etcd's {@code snap_fsync_duration_seconds}). */
  public void observe(Timing fsyncs) {
    this.fsyncs = fsyncs;
  }

  public void save(Snapshot s) throws IOException {
    byte[] payload = encode(s);
    CRC32C crc = new CRC32C();
    crc.update(payload);
    ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
    b.putInt((int) crc.getValue()).put(payload).flip();
    String name = String.format(Locale.ROOT, "%016x-%016x%s", s.term(), s.index(), SUFFIX);
    Path tmp = dir.resolve(name + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
      long start = fsyncs.start();
      ch.force(true);
      fsyncs.stop(start);
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    new DiskWalFiles(dir).syncDirectory();
    purge();
  }

  /** The newest readable snapshot, or {@link Snapshot#EMPTY}. */
  public Snapshot loadNewest() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      // A crash during save leaves a temporary file that was never renamed: it never counted.
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
        Files.deleteIfExists(p);
      }
    }
    List<String> names = names();
    for (int i = names.size() - 1; i >= 0; i--) {
      Path p = dir.resolve(names.get(i));
      byte[] all = Files.readAllBytes(p);
      Snapshot s = decodeChecked(all);
      if (s != null) {
        return s;
      }
      Files.move(p, dir.resolve(names.get(i) + ".broken"), StandardCopyOption.REPLACE_EXISTING);
    }
    return Snapshot.EMPTY;
  }

  private List<String> names() throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX)).forEach(out::add);
    }
    // Sort by index, then term (the name starts with the term).
    out.sort((a, b) -> {
      int c = Long.compareUnsigned(Long.parseUnsignedLong(a.substring(17, 33), 16),
          Long.parseUnsignedLong(b.substring(17, 33), 16));
      return c != 0 ? c : a.compareTo(b);
    });
    return out;
  }

  private void purge() throws IOException {
    if (filesMax == 0) {
      return;
    }
    List<String> names = names();
    for (int i = 0; i < names.size() - filesMax; i++) {
      Files.deleteIfExists(dir.resolve(names.get(i)));
    }
  }

  static byte[] encode(Snapshot s) {
    ConfState cs = s.metadata().confState();
    int n = cs.voters().size() + cs.learners().size() + cs.votersOutgoing().size() + cs.learnersNext().size();
    ByteBuffer b = ByteBuffer.allocate(16 + 16 + n * 8 + 1 + 4 + s.data().length);
    b.putLong(s.index()).putLong(s.term());
    for (List<Long> ids : List.of(cs.voters(), cs.learners(), cs.votersOutgoing(), cs.learnersNext())) {
      b.putInt(ids.size());
      for (long id : ids) {
        b.putLong(id);
      }
    }
    b.put((byte) (cs.autoLeave() ? 1 : 0));
    b.putInt(s.data().length).put(s.data());
    return b.array();
  }

  private static Snapshot decodeChecked(byte[] all) {
    if (all.length < 4) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(all);
    int want = b.getInt();
    CRC32C crc = new CRC32C();
    crc.update(all, 4, all.length - 4);
    if ((int) crc.getValue() != want) {
      return null;
    }
    try {
      long index = b.getLong();
      long term = b.getLong();
      List<List<Long>> lists = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining() / 8) {
          return null;
        }
        List<Long> ids = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
          ids.add(b.getLong());
        }
        lists.add(ids);
      }
      boolean autoLeave = b.get() != 0;
      int len = b.getInt();
      if (len < 0 || len != b.remaining()) {
        return null;
      }
      byte[] data = new byte[len];
      b.get(data);
      ConfState cs = new ConfState(lists.get(0), lists.get(1), lists.get(2), lists.get(3), autoLeave);
      return new Snapshot(new SnapshotMetadata(cs, index, term), data);
    } catch (java.nio.BufferUnderflowException e) {
      return null;
    }
  }
}
