package io.kvorum.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** RocksDB types stay in this package: no other main source file imports them. */
class RocksDbBoundaryTest {
  @Test
  void mainSources_outsideStorage_neverImportRocksDb() throws IOException {
    Path main = Paths.get("src/main/java");
    Path storage = main.resolve("io/kvorum/server/storage");
    assertThat(storage).isDirectory();
    List<Path> offenders;
    try (Stream<Path> files = Files.walk(main)) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.startsWith(storage))
              .filter(RocksDbBoundaryTest::mentionsRocksDb)
              .toList();
    }
    assertThat(offenders).isEmpty();
  }

  private static boolean mentionsRocksDb(Path file) {
    try {
      return Files.readString(file).contains("org.rocksdb");
    } catch (IOException e) {
      throw new StorageException("cannot read " + file, e);
    }
  }
}
