package io.kvorum.server.etcddata;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.kvorum.proto.etcdinternalpb.Metadata;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.EntryType;
import io.kvorum.proto.etcdraftpb.HardState;
import io.kvorum.proto.walpb.Record;
import io.kvorum.proto.walpb.Snapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes WAL files the way etcd's encoder does (8-byte little-endian length word with the padding
 * count in its top byte, records padded to 8 bytes, one CRC-32C chain across files), so tests can
 * build a WAL byte by byte, and break it.
 */
public final class WalFixture {
  private int crc;
  private ByteArrayOutputStream file = new ByteArrayOutputStream();

  /** Starts a new file with a crc record restating the chain so far. */
  public WalFixture startFile() {
    file = new ByteArrayOutputStream();
    frame(Record.newBuilder().setType(EtcdWal.CRC_TYPE).setCrc(crc).build());
    return this;
  }

  public WalFixture metadata(long nodeId, long clusterId) {
    return record(EtcdWal.METADATA_TYPE, Metadata.newBuilder().setNodeID(nodeId).setClusterID(clusterId).build());
  }

  public WalFixture snapshot(long index, long term) {
    return record(EtcdWal.SNAPSHOT_TYPE, Snapshot.newBuilder().setIndex(index).setTerm(term).build());
  }

  public WalFixture state(long term, long vote, long commit) {
    return record(EtcdWal.STATE_TYPE, HardState.newBuilder().setTerm(term).setVote(vote).setCommit(commit).build());
  }

  public WalFixture entry(long index, long term, String data) {
    return entry(Entry.newBuilder().setIndex(index).setTerm(term).setType(EntryType.EntryNormal)
        .setData(ByteString.copyFromUtf8(data)).build());
  }

  public WalFixture entry(Entry e) {
    return record(EtcdWal.ENTRY_TYPE, e);
  }

  public WalFixture record(long type, MessageLite data) {
    byte[] bytes = data.toByteArray();
    crc = Crc32c.update(crc, bytes);
    frame(Record.newBuilder().setType(type).setCrc(crc).setData(ByteString.copyFrom(bytes)).build());
    return this;
  }

  /** Appends raw bytes (a torn write, preallocated zeros). */
  public WalFixture raw(byte[] bytes) {
    file.writeBytes(bytes);
    return this;
  }

  public int size() {
    return file.size();
  }

  public byte[] bytes() {
    return file.toByteArray();
  }

  /** Writes the current file as {@code dir/%016x-%016x.wal}. */
  public Path write(Path dir, long seq, long index) throws IOException {
    Files.createDirectories(dir);
    Path p = dir.resolve(String.format("%016x-%016x.wal", seq, index));
    Files.write(p, file.toByteArray());
    return p;
  }

  private void frame(Record r) {
    byte[] data = r.toByteArray();
    int pad = (8 - data.length % 8) % 8;
    long len = data.length;
    if (pad != 0) {
      len |= (long) (0x80 | pad) << 56;
    }
    for (int i = 0; i < 8; i++) {
      file.write((int) (len >>> (8 * i)) & 0xff);
    }
    file.writeBytes(data);
    file.writeBytes(new byte[pad]);
  }
}
