package io.kvorum.server.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.raft.Entry;
import io.kvorum.raft.HardState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {
  private static final byte[] META = {1, 2, 3};

  private static List<Entry> entries(long term, long from, long to) {
    List<Entry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(Entry.normal(term, i, ("v" + i + "@" + term).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    return out;
  }

  @Test
  void powerCut_afterUnsyncedSave_keepsWhatWasFsyncedOnly(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    Wal w = Wal.create(files, META);
    w.save(new HardState(1, 1, 3), entries(1, 1, 3), true);
    w.save(new HardState(1, 1, 6), entries(1, 4, 6), false);
    w.powerCut();
    w.close();
    Wal.Opened o = Wal.open(files, 0, 0);
    o.wal().close();
    assertThat(o.recovered().hardState()).isEqualTo(new HardState(1, 1, 3));
    assertThat(o.recovered().entries()).isEqualTo(entries(1, 1, 3));
  }

  @Test
  void powerCut_afterReopen_keepsWhatRecoveryRead(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    try (Wal w = Wal.create(files, META)) {
      w.save(new HardState(1, 1, 2), entries(1, 1, 2), false);
    }
    Wal.Opened o = Wal.open(files, 0, 0);
    // Recovery forces what it read: it is durable from then on.
    o.wal().powerCut();
    o.wal().close();
    Wal.Opened again = Wal.open(files, 0, 0);
    again.wal().close();
    assertThat(again.recovered().entries()).isEqualTo(entries(1, 1, 2));
  }

  @Test
  void open_afterSave_recoversStateAndEntries(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    try (Wal w = Wal.create(files, META)) {
      w.save(new HardState(1, 1, 0), entries(1, 1, 5), true);
      w.save(new HardState(1, 1, 5), List.of(), true);
    }
    Wal.Opened o = Wal.open(files, 0, 0);
    o.wal().close();
    assertThat(o.recovered().metadata()).isEqualTo(META);
    assertThat(o.recovered().hardState()).isEqualTo(new HardState(1, 1, 5));
    assertThat(o.recovered().entries()).isEqualTo(entries(1, 1, 5));
  }

  @Test
  void open_rewrittenSuffix_keepsNewerLeadersEntries(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    try (Wal w = Wal.create(files, META)) {
      w.save(new HardState(1, 1, 2), entries(1, 1, 5), true);
      w.save(new HardState(2, 2, 2), entries(2, 3, 4), true);
    }
    Wal.Opened o = Wal.open(files, 0, 0);
    o.wal().close();
    List<Entry> expected = new ArrayList<>(entries(1, 1, 2));
    expected.addAll(entries(2, 3, 4));
    assertThat(o.recovered().entries()).isEqualTo(expected);
  }

  @Test
  void open_tornTail_cutsItOffAndAppendsAfter() throws IOException {
    PowerCutWalFiles files = new PowerCutWalFiles();
    Wal w = Wal.create(files, META);
    w.save(new HardState(1, 1, 3), entries(1, 1, 3), true);
    w.save(new HardState(1, 1, 3), entries(1, 4, 9), false);
    // Keep a torn part of the unsynced write: whatever survives must be whole records.
    files.powerCut(new SplittableRandom(7));
    Wal.Opened o = Wal.open(files, 0, 0);
    List<Entry> got = o.recovered().entries();
    assertThat(got.size()).isBetween(3, 9);
    assertThat(got).isEqualTo(entries(1, 1, got.size()));
    o.wal().save(null, entries(1, got.size() + 1, got.size() + 1), true);
    o.wal().close();
    Wal.Opened again = Wal.open(files, 0, 0);
    assertThat(again.recovered().entries()).isEqualTo(entries(1, 1, got.size() + 1));
  }

  @Test
  void open_corruptRecordInEarlierSegment_failsLoudly(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    try (Wal w = Wal.create(files, META)) {
      byte[] big = new byte[1024 * 1024];
      for (int i = 1; i <= 70; i++) {
        w.save(new HardState(1, 1, i), List.of(Entry.normal(1, i, big)), false);
      }
    }
    assertThat(files.list()).hasSizeGreaterThan(1);
    Path first = dir.resolve(files.list().get(0));
    byte[] content = Files.readAllBytes(first);
    content[content.length / 2] ^= 0x5a;
    Files.write(first, content);
    assertThatThrownBy(() -> Wal.open(files, 0, 0)).isInstanceOf(WalCorruptException.class);
  }

  @Test
  void releaseTo_afterSnapshot_dropsOldSegmentsAndReopensFromSnapshot(@TempDir Path dir) throws IOException {
    DiskWalFiles files = new DiskWalFiles(dir);
    byte[] big = new byte[1024 * 1024];
    try (Wal w = Wal.create(files, META)) {
      for (int i = 1; i <= 140; i++) {
        w.save(new HardState(1, 1, i), List.of(Entry.normal(1, i, big)), false);
      }
      w.saveSnapshot(130, 1);
      w.releaseTo(130);
    }
    // Segments start at 1, 64 and 129 (64 MiB each); only the one holding 130 onwards is kept.
    assertThat(files.list()).hasSize(1);
    Wal.Opened o = Wal.open(files, 130, 1);
    o.wal().close();
    assertThat(o.recovered().entries()).extracting(Entry::index)
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(131, 140).boxed().toList());
    assertThat(o.recovered().hardState().commit()).isEqualTo(140);
  }

  @Test
  void releaseTo_withFilesMax_keepsThatManySegmentsButNeverANeededOne() throws IOException {
    for (int filesMax : new int[] {0, 1, 2, 3, 5}) {
      PowerCutWalFiles files = new PowerCutWalFiles();
      byte[] big = new byte[1024 * 1024];
      try (Wal w = Wal.create(files, META)) {
        for (int i = 1; i <= 140; i++) {
          w.save(new HardState(1, 1, i), List.of(Entry.normal(1, i, big)), false);
        }
        w.saveSnapshot(130, 1);
        w.releaseTo(130, filesMax);
      }
      // Three segments (from 1, 64 and 129); the last one holds what follows the snapshot.
      int expected = filesMax == 0 ? 3 : Math.max(1, Math.min(3, filesMax));
      assertThat(files.list()).as("filesMax " + filesMax).hasSize(expected);
      Wal.Opened o = Wal.open(files, 130, 1);
      o.wal().close();
      assertThat(o.recovered().entries()).hasSize(10);
    }
  }

  @Test
  void powerCut_randomHistories_neverLoseSyncedEntries() throws IOException {
    for (int seed = 1; seed <= 300; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      PowerCutWalFiles files = new PowerCutWalFiles();
      Wal w = Wal.create(files, META);
      List<Entry> model = new ArrayList<>();
      long durableLast = 0;
      long term = 1;
      for (int step = 0; step < 40; step++) {
        if (r.nextInt(10) == 0) {
          files.powerCut(r);
          Wal.Opened o = Wal.open(files, 0, 0);
          w = o.wal();
          List<Entry> got = o.recovered().entries();
          assertThat(got.size()).as("seed=%d step=%d", seed, step).isGreaterThanOrEqualTo((int) durableLast);
          // Synced entries survive as written; past them, any prefix of the unsynced writes may.
          assertThat(got.subList(0, (int) durableLast)).as("seed=%d", seed)
              .isEqualTo(model.subList(0, (int) durableLast));
          model = new ArrayList<>(got);
          continue;
        }
        // Sometimes a new leader rewrites an unsynced-or-synced suffix above the durable point.
        long from = model.size() + 1;
        if (r.nextInt(5) == 0 && model.size() > durableLast) {
          from = durableLast + 1 + r.nextInt((int) (model.size() - durableLast));
          term++;
        }
        List<Entry> batch = entries(term, from, from + r.nextInt(5));
        boolean sync = r.nextBoolean();
        w.save(new HardState(term, 1, 0), batch, sync);
        model = new ArrayList<>(model.subList(0, (int) (from - 1)));
        model.addAll(batch);
        if (sync) {
          durableLast = model.size();
        } else {
          durableLast = Math.min(durableLast, from - 1);
        }
      }
    }
  }
}
