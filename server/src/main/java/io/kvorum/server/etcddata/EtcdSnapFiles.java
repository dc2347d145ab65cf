package io.kvorum.server.etcddata;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdraftpb.Snapshot;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The raft snapshots of an etcd 3.4 snap directory ({@code member/snap}): files named
 * {@code %016x-%016x.snap} (term, index) holding a {@code snappb.snapshot} envelope (the CRC-32C of
 * its data, then the data: a marshalled {@code raftpb.Snapshot}). As etcd's snapshotter, the newest
 * file that reads is taken and a broken one is skipped (etcd renames it {@code .snap.broken}; we
 * write nothing). {@code db}, {@code *.snap.db} and {@code .broken} files are not snapshots.
 */
public final class EtcdSnapFiles {
  /** A larger .snap file is refused rather than read; etcd 3.4's hold only the v2 membership store. */
  public static final long SNAP_FILE_BYTES_MAX = 512L * 1024 * 1024;
  /** More .snap files than this in one directory is refused rather than scanned. */
  public static final int FILES_MAX = 100_000;

  private static final Pattern NAME = Pattern.compile("[0-9a-f]{16}-[0-9a-f]{16}\\.snap");

  /** A snapshot read from {@code file}. */
  public record Loaded(Path file, Snapshot snapshot) {}

  private EtcdSnapFiles() {}

  /** The newest readable snapshot of {@code snapDir}, if any. */
  public static Optional<Loaded> newest(Path snapDir) throws EtcdDataException {
    return newestMatching(snapDir, null);
  }

  /**
   * The newest readable snapshot whose (index, term) is one of {@code markers} (etcd 3.4's
   * {@code LoadNewestAvailable}: only a snapshot the WAL recorded, so WAL and snapshot agree).
   */
  public static Optional<Loaded> newestOf(Path snapDir, Collection<EtcdWal.Marker> markers) throws EtcdDataException {
    return newestMatching(snapDir, markers);
  }

  private static Optional<Loaded> newestMatching(Path snapDir, Collection<EtcdWal.Marker> markers) throws EtcdDataException {
    for (Path f : names(snapDir)) {
      Optional<Snapshot> s = tryRead(f);
      if (s.isEmpty()) {
        continue;
      }
      EtcdWal.Marker m = new EtcdWal.Marker(s.get().getMetadata().getIndex(), s.get().getMetadata().getTerm());
      if (markers == null || markers.contains(m)) {
        return Optional.of(new Loaded(f, s.get()));
      }
    }
    return Optional.empty();
  }

  /** The .snap files of {@code snapDir}, newest (largest name) first. */
  static List<Path> names(Path snapDir) throws EtcdDataException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(snapDir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(snapDir)) {
      for (Path p : ds) {
        if (NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)) {
          if (out.size() == FILES_MAX) {
            throw new EtcdDataException(snapDir + ": more than " + FILES_MAX + " .snap files");
          }
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new EtcdDataException(snapDir + ": cannot list: " + e.getMessage(), e);
    }
    out.sort(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed());
    return out;
  }

  /** Reads one .snap file; a broken one (empty, bad CRC, does not decode) is an exception. */
  public static Snapshot read(Path file) throws EtcdDataException {
    long size;
    byte[] bytes;
    try {
      size = Files.size(file);
      if (size > SNAP_FILE_BYTES_MAX) {
        throw new EtcdDataException(file + ": " + size + " bytes exceeds the limit of " + SNAP_FILE_BYTES_MAX);
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new EtcdDataException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (bytes.length == 0) {
      throw new EtcdDataException(file + ": empty snapshot");
    }
    io.kvorum.proto.snappb.Snapshot envelope;
    try {
      envelope = io.kvorum.proto.snappb.Snapshot.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new EtcdDataException(file + ": snapshot envelope does not decode: " + e.getMessage(), e);
    }
    if (envelope.getData().isEmpty() || envelope.getCrc() == 0) {
      throw new EtcdDataException(file + ": empty snapshot");
    }
    CRC32C crc = new CRC32C();
    crc.update(envelope.getData().asReadOnlyByteBuffer());
    if ((int) crc.getValue() != envelope.getCrc()) {
      throw new EtcdDataException(file + ": CRC mismatch");
    }
    try {
      return Snapshot.parseFrom(envelope.getData());
    } catch (InvalidProtocolBufferException e) {
      throw new EtcdDataException(file + ": raft snapshot does not decode: " + e.getMessage(), e);
    }
  }

  private static Optional<Snapshot> tryRead(Path file) {
    try {
      return Optional.of(read(file));
    } catch (EtcdDataException e) {
      return Optional.empty();
    }
  }
}
