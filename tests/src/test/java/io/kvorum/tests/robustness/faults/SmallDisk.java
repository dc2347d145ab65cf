package io.kvorum.tests.robustness.faults;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real disk that fills up: a size-limited tmpfs mounted on a member's data dir. {@link #fill}
 * writes a filler file until the file system has no space left (what a WAL or backend write then
 * meets is the kernel's own {@code ENOSPC}); {@link #free} deletes it. {@link #close} unmounts.
 *
 * <p>Needs root. Mount it before the member starts: a member started with {@code ip netns exec}
 * has its own mount namespace, which sees mounts made before it (and, being a slave of ours,
 * later ones too).
 */
public final class SmallDisk implements AutoCloseable {
  /** How long {@code mount} or {@code umount} may take. */
  static final long COMMAND_TIMEOUT_MS = 10_000;
  /** The largest disk this makes (tmpfs takes memory). */
  static final long BYTES_MAX = 512L << 20;
  static final String FILLER = "filler";
  private static final int CHUNK_BYTES = 1 << 20;

  public final Path dir;
  private final long bytes;
  private boolean mounted;

  private SmallDisk(Path dir, long bytes) {
    this.dir = dir;
    this.bytes = bytes;
  }

  /** Mounts a tmpfs of {@code bytes} on {@code dir} (made if missing, and expected empty). */
  public static SmallDisk mount(Path dir, long bytes) throws IOException {
    if (bytes < (1 << 20) || bytes > BYTES_MAX) {
      throw new IllegalArgumentException("a small disk is 1 MiB.." + (BYTES_MAX >> 20) + " MiB: " + bytes);
    }
    Files.createDirectories(dir);
    SmallDisk d = new SmallDisk(dir, bytes);
    run("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0700", "tmpfs", dir.toString());
    d.mounted = true;
    return d;
  }

  /** The filler file: kept beside the member's data dir, on the same file system. */
  public Path fillerFile() {
    return dir.resolve(FILLER);
  }

  /**
   * Writes to the filler file until the disk is full, leaving {@code leaveBytes} (rounded down to
   * whole megabytes written) free; returns the bytes written.
   */
  public long fill(long leaveBytes) throws IOException {
    long written = 0;
    byte[] chunk = new byte[CHUNK_BYTES];
    try (OutputStream out = Files.newOutputStream(fillerFile(), java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND)) {
      while (written <= bytes && Files.getFileStore(dir).getUsableSpace() - CHUNK_BYTES >= leaveBytes) {
        out.write(chunk);
        written += CHUNK_BYTES;
      }
      // The last bytes, below a chunk, when the disk is to be completely full.
      if (leaveBytes == 0) {
        byte[] one = new byte[4096];
        while (written <= bytes) {
          try {
            out.write(one);
            out.flush();
            written += one.length;
          } catch (IOException full) {
            break;
          }
        }
      }
    } catch (IOException e) {
      if (!e.getMessage().contains("No space left")) {
        throw e;
      }
    }
    return written;
  }

  /** Deletes the filler file. */
  public void free() throws IOException {
    Files.deleteIfExists(fillerFile());
  }

  /** Space left, in bytes. */
  public long usableBytes() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  /** Unmounts (lazily, so a process still holding files there does not keep it mounted). */
  @Override
  public void close() throws IOException {
    if (mounted) {
      mounted = false;
      run("umount", "-l", dir.toString());
    }
  }

  private static void run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": no answer in " + COMMAND_TIMEOUT_MS + " ms");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", cmd) + ": interrupted", e);
    }
  }
}
