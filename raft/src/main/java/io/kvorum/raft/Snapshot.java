package io.kvorum.raft;

/**
 * A point-in-time image of the application state machine at {@code metadata.index()}. Raft treats
 * {@code data} as opaque: it may be the whole state or a descriptor the transport resolves.
 */
public record Snapshot(SnapshotMetadata metadata, byte[] data) {
  private static final byte[] NONE = new byte[0];
  public static final Snapshot EMPTY = new Snapshot(SnapshotMetadata.EMPTY, NONE);

  public Snapshot {
    if (metadata == null) {
      metadata = SnapshotMetadata.EMPTY;
    }
    if (data == null) {
      data = NONE;
    }
  }

  public long index() {
    return metadata.index();
  }

  public long term() {
    return metadata.term();
  }

  public boolean isEmpty() {
    return metadata.index() == 0;
  }

  @Override
  public String toString() {
    return "Snapshot{" + metadata + ", " + data.length + "B}";
  }
}
