package io.kvorum.cli;

import io.kvorum.server.auth.Passwords;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.migrate.Migration;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvorum migrate}: turns etcd 3.4's data into a Kvorum data dir, offline, leaving the etcd
 * data as it was. From an etcd member's data dir (also one {@code etcdctl snapshot restore} wrote),
 * or from a snapshot file with the new cluster's flags, as {@code etcdctl snapshot restore} takes
 * them. The output dir must not exist; start the member on it with {@code --data-dir}.
 */
@Command(name = Migrate.NAME, mixinStandardHelpOptions = true,
    description = "Turns etcd 3.4's data (a member's data dir, or a snapshot file) into a Kvorum data dir.")
final class Migrate implements Callable<Integer> {
  static final String NAME = "migrate";

  @Option(names = "--data-dir", description = "etcd member's data dir to read (not changed)")
  Path dataDir;

  @Option(names = "--wal-dir", description = "etcd member's dedicated WAL dir, if it ran with --wal-dir")
  Path walDir;

  @Option(names = "--snapshot", description = "snapshot file (etcdctl snapshot save) to read instead of a data dir")
  Path snapshot;

  @Option(names = "--skip-hash-check", description = "take a snapshot file without its SHA-256 (a copied db file)")
  boolean skipHashCheck;

  @Option(names = "--name", defaultValue = "default", description = "with --snapshot: this member's name")
  String name;

  @Option(names = "--initial-cluster", description = "with --snapshot: the new cluster, name=peer-url,...")
  String initialCluster;

  @Option(names = "--initial-cluster-token", defaultValue = "etcd-cluster",
      description = "with --snapshot: the new cluster's token")
  String token;

  @Option(names = "--initial-advertise-peer-urls", defaultValue = "http://localhost:2380",
      description = "with --snapshot: this member's peer URLs (for the default --initial-cluster)")
  String peerUrls;

  @Option(names = "--output", required = true, description = "Kvorum data dir to create (must not exist)")
  Path output;

  private final PrintWriter out;

  Migrate(PrintWriter out) {
    this.out = out;
  }

  /** Runs the command; the exit code. */
  static int run(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    CommandLine cl = new CommandLine(new Migrate(out));
    cl.setOut(out);
    PrintWriter err = new PrintWriter(System.err, true);
    cl.setErr(err);
    // A refusal is one line with its reason, not a stack trace.
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      err.println("kvorum migrate: " + e.getMessage());
      return 1;
    });
    return cl.execute(args);
  }

  @Override
  public Integer call() throws IOException {
    if ((dataDir == null) == (snapshot == null)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "give one of --data-dir or --snapshot");
    }
    if (Files.exists(output)) {
      throw new IOException("--output " + output + " exists");
    }
    Migration.Target target = Migration.Target.of(output);
    Files.createDirectories(target.memberDir());
    Migration.Result r;
    try {
      if (dataDir != null) {
        r = Migration.fromDataDir(dataDir, Optional.ofNullable(walDir), target, new Passwords(Passwords.DEFAULT_COST));
      } else {
        String cluster = initialCluster != null ? initialCluster : name + "=" + peerUrls;
        r = Migration.fromSnapshotFile(snapshot, skipHashCheck, name, ServerConfig.Builder.parseCluster(cluster),
            token, target);
      }
    } catch (IOException | RuntimeException e) {
      io.kvorum.server.storage.SnapshotLoader.deleteTree(output);
      throw e;
    }
    out.printf("migrated member %x of cluster %x into %s: %d records up to revision %d, %d members, starting at index"
        + " %d (term %d) with %d entries to apply%n", r.memberId(), r.clusterId(), output, r.records(), r.revision(),
        r.members(), r.start().index(), r.start().term(), r.entriesCarried());
    return 0;
  }
}
