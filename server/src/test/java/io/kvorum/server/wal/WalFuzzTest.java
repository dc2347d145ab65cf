package io.kvorum.server.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import io.kvorum.raft.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the member's own files on open: WAL segments ({@link Wal#open}) and raft snapshot files
 * ({@link SnapshotFiles#loadNewest}). A WAL either opens (a torn tail of the last segment cut off,
 * after which it takes appends and reopens with them) or is refused with
 * {@link WalCorruptException}; a snapshot file either loads or is set aside as broken.
 */
class WalFuzzTest {
  private static Path root;

  @BeforeAll
  static void createRoot() throws IOException {
    root = Files.createTempDirectory("kvorum-wal-fuzz");
  }

  @AfterAll
  static void deleteRoot() throws IOException {
    clear(root);
    Files.deleteIfExists(root);
  }

  /**
   * One or two segment files. The first input byte picks the snapshot index the WAL is opened
   * after (0 to 3) and whether the bytes are split into two segments; the rest is segment content.
   */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void walOpen(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    Path dir = fresh("wal");
    int mode = input[0] & 7;
    long snapIndex = mode & 3;
    byte[] all = java.util.Arrays.copyOfRange(input, 1, input.length);
    if ((mode & 4) != 0 && all.length > 1) {
      int cut = Math.floorMod(all[0], all.length - 1) + 1;
      Files.write(dir.resolve(WalFormat.segmentName(0, 0)), java.util.Arrays.copyOfRange(all, 1, cut));
      Files.write(dir.resolve(WalFormat.segmentName(1, 0)), java.util.Arrays.copyOfRange(all, cut, all.length));
    } else {
      Files.write(dir.resolve(WalFormat.segmentName(0, 0)), all);
    }
    DiskWalFiles files = new DiskWalFiles(dir);
    Wal.Recovered first;
    long last;
    try {
      Wal.Opened opened = Wal.open(files, snapIndex, 0);
      first = opened.recovered();
      last = opened.wal().lastIndex();
      List<Entry> ents = first.entries();
      for (int i = 0; i < ents.size(); i++) {
        assertThat(ents.get(i).index()).isEqualTo(snapIndex + 1 + i);
      }
      // The store is usable after recovery: an append survives a reopen.
      Entry next = new Entry(Math.max(1, first.hardState().term()), last + 1, EntryType.NORMAL, new byte[] {42});
      opened.wal().save(new HardState(next.term(), 0, 0), List.of(next), true);
      opened.wal().close();
    } catch (WalCorruptException refused) {
      return;
    }
    Wal.Opened again = Wal.open(files, snapIndex, 0);
    try {
      List<Entry> ents = again.recovered().entries();
      assertThat(ents).isNotEmpty();
      assertThat(ents.get(ents.size() - 1).index()).isEqualTo(last + 1);
      assertThat(ents.get(ents.size() - 1).data()).containsExactly(42);
      assertThat(again.recovered().metadata()).isEqualTo(first.metadata());
    } finally {
      again.wal().close();
    }
  }

  /** A raft snapshot file's content: loaded, or renamed {@code .broken} and nothing loaded. */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void snapshotFile(byte[] content) throws IOException {
    Path dir = fresh("snap");
    String name = "0000000000000001-0000000000000005.snap";
    Files.write(dir.resolve(name), content);
    Snapshot s = new SnapshotFiles(dir).loadNewest();
    if (s == Snapshot.EMPTY) {
      assertThat(dir.resolve(name + ".broken")).exists();
    } else {
      assertThat(SnapshotFiles.encode(s).length).isEqualTo(content.length - 4);
    }
  }

  private static Path fresh(String name) throws IOException {
    Path dir = root.resolve(name);
    clear(dir);
    Files.createDirectories(dir);
    return dir;
  }

  private static void clear(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
