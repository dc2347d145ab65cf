package io.kvorum.server.migrate;

import io.kvorum.server.auth.Passwords;
import io.kvorum.server.etcddata.EtcdDataDir;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member started on an etcd 3.4 data dir (what {@code etcdctl snapshot restore} wrote, or an etcd
 * member's own) migrates it where it lies before it opens it: the Kvorum member is written beside
 * etcd's ({@code member.kvorum-migrating}), marked complete, then etcd's {@code member} is renamed
 * to {@code member.etcd} (kept: etcd 3.4 starts on it again once it is renamed back) and the new
 * one to {@code member}. A stop at any point is finished or redone at the next start: an unmarked
 * staging dir is removed and the migration runs again from etcd's untouched files; a marked one
 * whose {@code member} is gone is moved into place.
 */
public final class InPlace {
  private static final Logger LOG = LoggerFactory.getLogger(InPlace.class);
  static final String STAGING = "member.kvorum-migrating";
  static final String KEPT = "member.etcd";
  static final String COMPLETE = "MIGRATED";

  private InPlace() {}

  /**
   * Migrates {@code dataDir} if it holds an etcd member (and not a Kvorum one); {@code passwords}
   * (which hashes the passwords of etcd's logged user additions) is made only then.
   *
   * @return whether it did (or finished one a stop interrupted)
   */
  public static boolean migrateIfEtcd(Path dataDir, Optional<Path> dedicatedWalDir, Supplier<Passwords> passwords)
      throws IOException {
    Path member = dataDir.resolve("member");
    Path staging = dataDir.resolve(STAGING);
    if (Files.isDirectory(staging)) {
      if (Files.exists(staging.resolve(COMPLETE)) && !Files.exists(member)) {
        moveIntoPlace(dataDir, staging, member);
        return true;
      }
      LOG.info("removing the unfinished migration {}", staging);
      SnapshotLoader.deleteTree(staging);
    }
    if (Files.isDirectory(member.resolve("kv")) || !EtcdDataDir.isEtcd(dataDir, Optional.empty())) {
      return false;
    }
    if (dedicatedWalDir.isPresent()) {
      throw new IOException("the data dir " + dataDir + " holds etcd 3.4's data; with --wal-dir, migrate it first: "
          + "kvorum migrate --data-dir " + dataDir + " --wal-dir " + dedicatedWalDir.get() + " --output DIR");
    }
    LOG.info("the data dir {} holds etcd 3.4's data: migrating it (etcd's files are kept in {})", dataDir,
        dataDir.resolve(KEPT));
    Migration.Result r = Migration.fromDataDir(dataDir, Optional.empty(),
        new Migration.Target(staging, staging.resolve("wal")), passwords.get());
    Files.write(staging.resolve(COMPLETE), new byte[0]);
    fsync(staging.resolve(COMPLETE), false);
    fsync(staging, true);
    Path kept = dataDir.resolve(KEPT);
    if (Files.exists(kept)) {
      throw new IOException(kept + " exists: move it away to migrate " + dataDir + " again");
    }
    Files.move(member, kept, StandardCopyOption.ATOMIC_MOVE);
    fsync(dataDir, true);
    moveIntoPlace(dataDir, staging, member);
    LOG.info("migrated etcd member {} of cluster {}: {} records up to revision {}, starting at index {} (term {}) with "
        + "{} members and {} entries to apply", Long.toHexString(r.memberId()), Long.toHexString(r.clusterId()),
        r.records(), r.revision(), r.start().index(), r.start().term(), r.members(), r.entriesCarried());
    return true;
  }

  private static void moveIntoPlace(Path dataDir, Path staging, Path member) throws IOException {
    Files.move(staging, member, StandardCopyOption.ATOMIC_MOVE);
    Files.delete(member.resolve(COMPLETE));
    fsync(dataDir, true);
  }

  private static void fsync(Path p, boolean directory) throws IOException {
    try (FileChannel ch = FileChannel.open(p, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }
}
