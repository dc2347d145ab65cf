package io.kvorum.server.wal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * An in-memory {@link WalFiles} that models the page cache: appended bytes are only durable once
 * forced. {@link #powerCut} throws away everything not forced, except a random prefix of it (a
 * torn write), which is what a real power failure may leave behind. SIGKILL cannot show this.
 */
public final class PowerCutWalFiles implements WalFiles {
  private final TreeMap<String, MemSegment> files = new TreeMap<>();

  static final class MemSegment implements Segment {
    final ByteArrayOutputStream durable = new ByteArrayOutputStream();
    final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    boolean closed;

    @Override
    public long size() {
      return durable.size() + pending.size();
    }

    private byte[] all() {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.writeBytes(durable.toByteArray());
      b.writeBytes(pending.toByteArray());
      return b.toByteArray();
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      byte[] a = all();
      if (position >= a.length) {
        return -1;
      }
      int n = (int) Math.min(dst.remaining(), a.length - position);
      dst.put(a, (int) position, n);
      return n;
    }

    @Override
    public void append(ByteBuffer src) throws IOException {
      if (closed) {
        throw new IOException("closed");
      }
      byte[] b = new byte[src.remaining()];
      src.get(b);
      pending.writeBytes(b);
    }

    @Override
    public void force() {
      durable.writeBytes(pending.toByteArray());
      pending.reset();
    }

    @Override
    public void truncate(long size) {
      byte[] a = all();
      durable.reset();
      pending.reset();
      durable.write(a, 0, (int) Math.min(size, a.length));
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Override
  public List<String> list() {
    return new ArrayList<>(files.keySet());
  }

  @Override
  public Segment open(String name) throws IOException {
    MemSegment s = files.get(name);
    if (s == null) {
      throw new IOException("no such file " + name);
    }
    s.closed = false;
    return s;
  }

  @Override
  public Segment create(String name) throws IOException {
    if (files.containsKey(name)) {
      throw new IOException("exists " + name);
    }
    MemSegment s = new MemSegment();
    files.put(name, s);
    return s;
  }

  @Override
  public void delete(String name) {
    files.remove(name);
  }

  @Override
  public void syncDirectory() {}

  /** Loses every unforced byte except a random prefix per file, and closes every handle. */
  public void powerCut(RandomGenerator random) {
    for (MemSegment s : files.values()) {
      byte[] p = s.pending.toByteArray();
      int keep = p.length == 0 ? 0 : random.nextInt(p.length + 1);
      s.durable.write(p, 0, keep);
      s.pending.reset();
      s.closed = true;
    }
  }

  /** Flips one byte of a file (corruption, not a crash). */
  void flipByte(String name, int offset) {
    MemSegment s = files.get(name);
    s.force();
    byte[] a = s.durable.toByteArray();
    a[offset] ^= 0x5a;
    s.durable.reset();
    s.durable.writeBytes(a);
  }
}
