package io.kvorum.server.etcddata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdSnapFilesTest {
  @TempDir Path dir;

  @Test
  void newest_severalSnapshots_returnsTheLargestName() throws Exception {
    SnapFixture.write(dir, SnapFixture.snapshot(5, 1, "{}", 1));
    SnapFixture.write(dir, SnapFixture.snapshot(12, 2, "{}", 1));
    SnapFixture.write(dir, SnapFixture.snapshot(9, 2, "{}", 1));
    assertThat(EtcdSnapFiles.newest(dir).orElseThrow().snapshot().getMetadata().getIndex()).isEqualTo(12);
  }

  @Test
  void newest_newestIsBroken_skipsToTheNextOne() throws Exception {
    SnapFixture.write(dir, SnapFixture.snapshot(5, 1, "{}", 1));
    Path broken = SnapFixture.write(dir, SnapFixture.snapshot(9, 1, "{}", 1));
    byte[] b = Files.readAllBytes(broken);
    b[b.length - 1] ^= 0x40;
    Files.write(broken, b);
    Files.write(dir.resolve("0000000000000003-0000000000000010.snap"), new byte[0]);
    assertThat(EtcdSnapFiles.newest(dir).orElseThrow().snapshot().getMetadata().getIndex()).isEqualTo(5);
    assertThatThrownBy(() -> EtcdSnapFiles.read(broken)).isInstanceOf(EtcdDataException.class).hasMessageContaining("CRC mismatch");
    assertThat(Files.readAllBytes(broken)).isEqualTo(b);
  }

  @Test
  void newest_dbAndBrokenFiles_areNotSnapshots() throws Exception {
    Files.createDirectories(dir);
    Files.write(dir.resolve("db"), new byte[] {1, 2, 3});
    Files.write(dir.resolve("0000000000000001-0000000000000005.snap.db"), new byte[] {1});
    Path good = SnapFixture.write(dir, SnapFixture.snapshot(7, 2, "{}", 1));
    Files.copy(good, dir.resolve("0000000000000009-0000000000000009.snap.broken"));
    assertThat(EtcdSnapFiles.newest(dir).orElseThrow().file()).isEqualTo(good);
  }

  @Test
  void newestOf_onlySnapshotsTheWalRecorded() throws Exception {
    SnapFixture.write(dir, SnapFixture.snapshot(5, 1, "{}", 1));
    SnapFixture.write(dir, SnapFixture.snapshot(9, 1, "{}", 1));
    assertThat(EtcdSnapFiles.newestOf(dir, List.of(new EtcdWal.Marker(5, 1))).orElseThrow()
        .snapshot().getMetadata().getIndex()).isEqualTo(5);
    assertThat(EtcdSnapFiles.newestOf(dir, List.of(new EtcdWal.Marker(3, 1)))).isEmpty();
  }

  @Test
  void newest_noDirectory_isEmpty() throws Exception {
    assertThat(EtcdSnapFiles.newest(dir.resolve("missing"))).isEmpty();
  }
}
