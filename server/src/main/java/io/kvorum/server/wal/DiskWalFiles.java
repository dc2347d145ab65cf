package io.kvorum.server.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/** {@link WalFiles} on a real directory, through {@link FileChannel}. */
public final class DiskWalFiles implements WalFiles {
  private final Path dir;

  public DiskWalFiles(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  @Override
  public List<String> list() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Override
  public Segment open(String name) throws IOException {
    return new DiskSegment(FileChannel.open(dir.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE));
  }

  @Override
  public Segment create(String name) throws IOException {
    return new DiskSegment(FileChannel.open(dir.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.CREATE_NEW));
  }

  @Override
  public void delete(String name) throws IOException {
    Files.deleteIfExists(dir.resolve(name));
  }

  @Override
  public void syncDirectory() throws IOException {
    // Opening a directory for reading and forcing it is how the JDK exposes fsync(dirfd) on Linux.
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some file systems refuse to open directories; the data files themselves are still synced.
      if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("win")) {
        throw e;
      }
    }
  }

  private static final class DiskSegment implements Segment {
    private final FileChannel ch;

    DiskSegment(FileChannel ch) {
      this.ch = ch;
    }

    @Override
    public long size() throws IOException {
      return ch.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return ch.read(dst, position);
    }

    @Override
    public void append(ByteBuffer src) throws IOException {
      long pos = ch.size();
      while (src.hasRemaining()) {
        pos += ch.write(src, pos);
      }
    }

    @Override
    public void force() throws IOException {
      ch.force(false);
    }

    @Override
    public void truncate(long size) throws IOException {
      ch.truncate(size);
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }
}
