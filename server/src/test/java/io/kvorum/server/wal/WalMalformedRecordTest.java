package io.kvorum.server.wal;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record whose CRC matches but whose payload is too short for its type is corruption, not a torn
 * write: found by {@link WalFuzzTest}, where it failed with a BufferUnderflowException instead.
 */
class WalMalformedRecordTest {
  @TempDir Path dir;

  private static byte[] record(byte type, byte[] payload) {
    ByteBuffer body = ByteBuffer.allocate(1 + payload.length).put(type).put(payload).flip();
    return ByteBuffer.allocate(WalFormat.HEADER_BYTES + body.remaining()).putInt(body.remaining())
        .putInt(WalFormat.crc(body)).put(body).array();
  }

  private void segment(byte type, int payloadBytes) throws Exception {
    byte[] meta = record(WalFormat.METADATA, new byte[] {1, 2, 3, 4});
    byte[] bad = record(type, new byte[payloadBytes]);
    byte[] all = new byte[meta.length + bad.length];
    System.arraycopy(meta, 0, all, 0, meta.length);
    System.arraycopy(bad, 0, all, meta.length, bad.length);
    Files.write(dir.resolve(WalFormat.segmentName(0, 0)), all);
  }

  @Test
  void open_shortEntryRecord_isCorrupt() throws Exception {
    segment(WalFormat.ENTRY, 3);
    assertThatThrownBy(() -> Wal.open(new DiskWalFiles(dir), 0, 0)).isInstanceOf(WalCorruptException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void open_shortStateRecord_isCorrupt() throws Exception {
    segment(WalFormat.STATE, 8);
    assertThatThrownBy(() -> Wal.open(new DiskWalFiles(dir), 0, 0)).isInstanceOf(WalCorruptException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void open_shortSnapshotRecord_isCorrupt() throws Exception {
    segment(WalFormat.SNAPSHOT, 4);
    assertThatThrownBy(() -> Wal.open(new DiskWalFiles(dir), 0, 0)).isInstanceOf(WalCorruptException.class)
        .hasMessageContaining("too short");
  }
}
