package io.kvorum.server.etcddata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.proto.etcdraftpb.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdWalTest {
  @TempDir Path dir;

  private static List<Long> indexes(List<Entry> es) {
    return es.stream().map(Entry::getIndex).toList();
  }

  private static List<String> datas(List<Entry> es) {
    return es.stream().map(e -> e.getData().toStringUtf8()).toList();
  }

  @Test
  void update_chained_equalsOneShotCrc32c() {
    byte[] a = "hello, ".getBytes();
    byte[] b = "world".getBytes();
    CRC32C j = new CRC32C();
    j.update(a);
    j.update(b);
    assertThat(Crc32c.update(Crc32c.update(0, a), b)).isEqualTo((int) j.getValue());
  }

  @Test
  void read_singleFile_returnsMetadataStateSnapshotsAndEntries() throws Exception {
    new WalFixture().startFile().metadata(0xabcL, 0xdefL).snapshot(0, 0)
        .entry(1, 1, "a").entry(2, 1, "b").state(1, 0xabc, 2).write(dir, 0, 0);
    EtcdWal wal = EtcdWal.read(dir);
    assertThat(wal.memberId()).isEqualTo(0xabcL);
    assertThat(wal.clusterId()).isEqualTo(0xdefL);
    assertThat(wal.hardState().getCommit()).isEqualTo(2);
    assertThat(wal.hardState().getVote()).isEqualTo(0xabc);
    assertThat(wal.snapshots()).containsExactly(new EtcdWal.Marker(0, 0));
    assertThat(datas(wal.entriesAfter(new EtcdWal.Marker(0, 0)))).containsExactly("a", "b");
    assertThat(wal.tornTail()).isFalse();
  }

  @Test
  void read_multipleFiles_continuesTheCrcChainAcrossFiles() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a").state(1, 1, 1);
    f.write(dir, 0, 0);
    f.startFile().metadata(1, 2).state(1, 1, 1).entry(2, 1, "b").write(dir, 1, 2);
    f.startFile().metadata(1, 2).state(1, 1, 1).entry(3, 1, "c").state(1, 1, 3).write(dir, 2, 3);
    EtcdWal wal = EtcdWal.read(dir);
    assertThat(wal.files()).hasSize(3);
    assertThat(datas(wal.entriesAfter(new EtcdWal.Marker(0, 0)))).containsExactly("a", "b", "c");
    assertThat(wal.hardState().getCommit()).isEqualTo(3);
  }

  @Test
  void read_crcRecordNotContinuingTheChain_isRefused() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a");
    f.write(dir, 0, 0);
    // A second file written by a different chain: its crc record restates a value the first did not end with.
    new WalFixture().entry(99, 9, "unrelated").startFile().metadata(1, 2).entry(2, 1, "b").write(dir, 1, 2);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("does not continue the chain");
  }

  @Test
  void read_corruptRecordInTheMiddle_isRefused() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "aaaaaaaa").entry(2, 1, "b");
    byte[] bytes = f.bytes();
    int at = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("aaaaaaaa");
    bytes[at + 3] ^= 0x01;
    Files.createDirectories(dir);
    Files.write(dir.resolve("0000000000000000-0000000000000000.wal"), bytes);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("CRC mismatch");
  }

  @Test
  void read_tornLastRecord_endsTheLog() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a");
    int keep = f.size();
    f.entry(2, 1, "a long record torn by the crash");
    byte[] torn = Arrays.copyOf(f.bytes(), keep + 13);
    Files.createDirectories(dir);
    Files.write(dir.resolve("0000000000000000-0000000000000000.wal"), torn);
    EtcdWal wal = EtcdWal.read(dir);
    assertThat(wal.tornTail()).isTrue();
    assertThat(indexes(wal.entriesAfter(new EtcdWal.Marker(0, 0)))).containsExactly(1L);
  }

  @Test
  void read_recordWithZeroedSectorInNewestFile_endsTheLog() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a");
    int start = f.size();
    f.entry(2, 1, "x".repeat(2000));
    byte[] bytes = f.bytes();
    // The second sector of the record never reached the disk.
    int sector = (start / EtcdWal.SECTOR_BYTES + 2) * EtcdWal.SECTOR_BYTES;
    Arrays.fill(bytes, sector, sector + EtcdWal.SECTOR_BYTES, (byte) 0);
    Files.createDirectories(dir);
    Files.write(dir.resolve("0000000000000000-0000000000000000.wal"), bytes);
    EtcdWal wal = EtcdWal.read(dir);
    assertThat(wal.tornTail()).isTrue();
    assertThat(indexes(wal.entriesAfter(new EtcdWal.Marker(0, 0)))).containsExactly(1L);
  }

  @Test
  void read_tornRecordInAnOlderFile_isRefused() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a");
    int keep = f.size();
    f.entry(2, 1, "bbbbbbbbbbbbbbbbbbbbbb");
    byte[] torn = Arrays.copyOf(f.bytes(), keep + 13);
    Files.createDirectories(dir);
    Files.write(dir.resolve("0000000000000000-0000000000000000.wal"), torn);
    new WalFixture().startFile().metadata(1, 2).write(dir, 1, 2);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("not the newest");
  }

  @Test
  void read_zeroFilledPreallocatedTail_endsTheFile() throws Exception {
    new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a").state(1, 1, 1)
        .raw(new byte[64 * 1024]).write(dir, 0, 0);
    EtcdWal wal = EtcdWal.read(dir);
    assertThat(wal.tornTail()).isFalse();
    assertThat(indexes(wal.entriesAfter(new EtcdWal.Marker(0, 0)))).containsExactly(1L);
  }

  @Test
  void entriesAfter_indexWrittenAgain_laterEntryReplacesItAndWhatFollowed() throws Exception {
    new WalFixture().startFile().metadata(1, 2).snapshot(0, 0)
        .entry(1, 1, "a").entry(2, 1, "b").entry(3, 1, "c").entry(2, 2, "B").entry(3, 2, "C").entry(4, 2, "D")
        .write(dir, 0, 0);
    List<Entry> es = EtcdWal.read(dir).entriesAfter(new EtcdWal.Marker(0, 0));
    assertThat(datas(es)).containsExactly("a", "B", "C", "D");
    assertThat(es.get(1).getTerm()).isEqualTo(2);
  }

  @Test
  void entriesAfter_snapshot_skipsEntriesAtOrBeforeIt() throws Exception {
    new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a").entry(2, 1, "b")
        .snapshot(2, 1).entry(3, 1, "c").write(dir, 0, 0);
    assertThat(datas(EtcdWal.read(dir).entriesAfter(new EtcdWal.Marker(2, 1)))).containsExactly("c");
  }

  @Test
  void entriesAfter_gapInIndexes_isRefused() throws Exception {
    new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a").entry(3, 1, "c").write(dir, 0, 0);
    EtcdWal wal = EtcdWal.read(dir);
    assertThatThrownBy(() -> wal.entriesAfter(new EtcdWal.Marker(0, 0))).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("gap");
  }

  @Test
  void entriesAfter_snapshotNotRecorded_isRefused() throws Exception {
    new WalFixture().startFile().metadata(1, 2).snapshot(0, 0).entry(1, 1, "a").write(dir, 0, 0);
    EtcdWal wal = EtcdWal.read(dir);
    assertThatThrownBy(() -> wal.entriesAfter(new EtcdWal.Marker(5, 1))).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("no snapshot record");
    assertThatThrownBy(() -> wal.entriesAfter(new EtcdWal.Marker(0, 3))).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("has term");
  }

  @Test
  void read_recordLongerThanTheLimit_isRefused() throws Exception {
    long len = EtcdWal.RECORD_BYTES_MAX + 1L;
    byte[] word = new byte[8];
    for (int i = 0; i < 8; i++) {
      word[i] = (byte) (len >>> (8 * i));
    }
    new WalFixture().startFile().metadata(1, 2).raw(word).raw(new byte[100]).write(dir, 0, 0);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("exceeds the limit");
  }

  @Test
  void read_metadataDisagreesBetweenFiles_isRefused() throws Exception {
    WalFixture f = new WalFixture().startFile().metadata(1, 2).snapshot(0, 0);
    f.write(dir, 0, 0);
    f.startFile().metadata(1, 3).write(dir, 1, 1);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("metadata conflicts");
  }

  @Test
  void read_unknownRecordType_isRefused() throws Exception {
    new WalFixture().startFile().metadata(1, 2).record(9, io.kvorum.proto.walpb.Snapshot.getDefaultInstance())
        .write(dir, 0, 0);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("unexpected record type 9");
  }

  @Test
  void files_gapInSequence_isRefused() throws IOException {
    new WalFixture().startFile().metadata(1, 2).write(dir, 0, 0);
    new WalFixture().startFile().metadata(1, 2).write(dir, 2, 5);
    Files.writeString(dir.resolve("0.tmp"), "ignored");
    assertThatThrownBy(() -> EtcdWal.files(dir)).isInstanceOf(EtcdDataException.class).hasMessageContaining("gap");
  }

  @Test
  void read_noWalFiles_isRefused() throws IOException {
    Files.createDirectories(dir);
    assertThatThrownBy(() -> EtcdWal.read(dir)).isInstanceOf(EtcdDataException.class).hasMessageContaining("no WAL files");
  }
}
