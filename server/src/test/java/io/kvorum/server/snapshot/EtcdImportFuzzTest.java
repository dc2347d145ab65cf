package io.kvorum.server.snapshot;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.etcddata.EtcdDataException;
import io.kvorum.server.etcddata.EtcdSnapFiles;
import io.kvorum.server.etcddata.EtcdWal;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes etcd's formats as read on import and migration: a bbolt backend file
 * ({@link BoltReader}, then {@link SnapshotImporter#load} into a backend being built), an etcd WAL
 * ({@link EtcdWal}) and an etcd {@code .snap} file ({@link EtcdSnapFiles}). Each is read or refused
 * with an {@link IOException} ({@code BoltFormatException} among them) or {@link EtcdDataException};
 * any other throwable fails the test.
 */
class EtcdImportFuzzTest {
  private static Path root;

  @BeforeAll
  static void createRoot() throws IOException {
    root = Files.createTempDirectory("kvorum-import-fuzz");
  }

  @AfterAll
  static void deleteRoot() throws IOException {
    clear(root);
  }

  /** An etcd backend (bbolt) file, as {@code snapshot restore} and migration read it. */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void boltBackend(byte[] content) throws IOException {
    Path dir = fresh("bolt");
    Path file = dir.resolve("db");
    Files.write(file, content);
    try (BoltReader db = BoltReader.open(file)) {
      for (byte[] bucket : db.bucketNames()) {
        db.forEach(bucket, (k, v) -> true);
      }
      SnapshotImporter.consistentIndex(db);
      try (SnapshotLoader loader = new SnapshotLoader(dir.resolve("sst"))) {
        SnapshotImporter.load(db, loader, new ConsistentIndex(1, 1), MembershipRecord.getDefaultInstance());
      }
    } catch (IOException refused) {
      // BoltFormatException or another refusal with its reason.
    }
  }

  /** One etcd WAL file, read whole and its entries after the first snapshot record taken. */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void etcdWal(byte[] content) throws IOException {
    Path dir = fresh("wal");
    Files.write(dir.resolve("0000000000000000-0000000000000000.wal"), content);
    try {
      EtcdWal wal = EtcdWal.read(dir);
      wal.memberId();
      wal.hardState();
      if (!wal.snapshots().isEmpty()) {
        wal.entriesAfter(wal.snapshots().get(wal.snapshots().size() - 1));
      }
    } catch (EtcdDataException refused) {
      // Refused with its reason.
    }
  }

  /** One etcd {@code .snap} file. */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void etcdSnap(byte[] content) throws IOException {
    Path dir = fresh("snap");
    Path file = dir.resolve("0000000000000002-0000000000000010.snap");
    Files.write(file, content);
    try {
      EtcdSnapFiles.read(file);
    } catch (EtcdDataException refused) {
      // Refused with its reason.
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
