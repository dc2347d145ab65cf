package io.kvorum.server.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot files kept as etcd's {@code --max-snapshots} says. */
class SnapshotFilesTest {
  @TempDir Path dir;

  private long count(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".snap")).count();
    }
  }

  private static Snapshot snapshot(long index) {
    return new Snapshot(new SnapshotMetadata(ConfState.ofVoters(1), index, 1), new byte[] {(byte) index});
  }

  @Test
  void save_withFilesMax_keepsTheNewestOnes() throws IOException {
    SnapshotFiles three = new SnapshotFiles(dir.resolve("three"), 3);
    SnapshotFiles all = new SnapshotFiles(dir.resolve("all"), 0);
    for (long i = 1; i <= 7; i++) {
      three.save(snapshot(i * 10));
      all.save(snapshot(i * 10));
    }
    assertThat(count(dir.resolve("three"))).isEqualTo(3);
    assertThat(count(dir.resolve("all"))).isEqualTo(7);
    assertThat(three.loadNewest().index()).isEqualTo(70);
  }
}
