package io.kvorum.server.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The file-system seam of the WAL: one directory of segment files. Production uses
 * {@link DiskWalFiles}; tests use a layer that loses unsynced writes at a simulated power cut.
 */
public interface WalFiles {
  /** File names in the directory, sorted. */
  List<String> list() throws IOException;

  Segment open(String name) throws IOException;

  /** Creates a new, empty file (failing if it exists). */
  Segment create(String name) throws IOException;

  void delete(String name) throws IOException;

  /** Makes creations and deletions in the directory durable. */
  void syncDirectory() throws IOException;

  /** One segment file, read at positions and appended at its end. */
  interface Segment extends Closeable {
    long size() throws IOException;

    /** Reads into {@code dst} from {@code position}; the number of bytes read, -1 at the end. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Appends all of {@code src} at the end of the file. */
    void append(ByteBuffer src) throws IOException;

    /** Makes every append so far durable (fdatasync). */
    void force() throws IOException;

    void truncate(long size) throws IOException;
  }
}
