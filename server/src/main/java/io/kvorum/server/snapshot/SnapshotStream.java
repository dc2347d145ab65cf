package io.kvorum.server.snapshot;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The stream of etcd's {@code Maintenance.Snapshot}: a written database file in chunks of {@link
 * #CHUNK_BYTES}, each with the bytes still to come after it, then one last message holding the
 * SHA-256 of everything before it (with 0 bytes to come), which {@code etcdctl snapshot save}
 * appends to the file and {@code snapshot restore} checks. Closing it deletes the file.
 */
public final class SnapshotStream implements AutoCloseable {
  /** Bytes per message: etcd's {@code snapshotSendBufferSize} (32 KiB). */
  public static final int CHUNK_BYTES = 32 * 1024;

  /** One message of the stream. */
  public record Chunk(ByteString blob, long remainingBytes) {}

  private final SnapshotExporter.Exported exported;
  private final FileChannel channel;
  private final MessageDigest sha256;
  private final long total;
  private long sent;
  private boolean hashSent;

  public SnapshotStream(SnapshotExporter.Exported exported) throws IOException {
    this.exported = exported;
    this.channel = FileChannel.open(exported.file(), StandardOpenOption.READ);
    this.total = channel.size();
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      channel.close();
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  public SnapshotExporter.Exported exported() {
    return exported;
  }

  /** Bytes of the database file (without the hash). */
  public long sizeBytes() {
    return total;
  }

  /** The next message, or null after the hash was handed out. */
  public Chunk next() throws IOException {
    if (sent < total) {
      int n = (int) Math.min(CHUNK_BYTES, total - sent);
      ByteBuffer buf = ByteBuffer.allocate(n);
      while (buf.hasRemaining()) {
        if (channel.read(buf, sent + buf.position()) < 0) {
          throw new IOException("snapshot file " + exported.file() + " ended at " + (sent + buf.position())
              + " of " + total + " bytes");
        }
      }
      sha256.update(buf.array(), 0, n);
      sent += n;
      // The array is not touched again: the message takes it without a copy.
      return new Chunk(com.google.protobuf.UnsafeByteOperations.unsafeWrap(buf.array()), total - sent);
    }
    if (!hashSent) {
      hashSent = true;
      return new Chunk(ByteString.copyFrom(sha256.digest()), 0);
    }
    return null;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // closing a read-only file: nothing was lost
    }
    try {
      Files.deleteIfExists(exported.file());
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(SnapshotStream.class)
          .warn("cannot remove snapshot file {}: {}", exported.file(), e.toString());
    }
  }
}
