package io.kvorum.server.transport;

import com.google.protobuf.ByteString;
import io.kvorum.raft.Message;
import io.kvorum.raft.Snapshot;
import java.io.IOException;

/**
 * How the transport moves the state machine's part of a raft snapshot: the sending member reads
 * it in chunks ({@link Source}), the receiving member stores them ({@link Receiver}) and only then
 * hands the snapshot message to raft. Chunks are pulled one at a time under gRPC flow control, so
 * neither side holds more than a few chunks in memory.
 */
public final class SnapshotStreams {
  private SnapshotStreams() {}

  /** Opens the data to send with raft snapshot {@code snapshot}. */
  public interface Source {
    Reader open(Snapshot snapshot) throws IOException;
  }

  /** The chunks of one snapshot, read on the sender's thread. */
  public interface Reader extends AutoCloseable {
    /** The next chunk, or null at the end. */
    ByteString next() throws IOException;

    @Override
    void close();
  }

  /** Stores incoming snapshots. */
  public interface Receiver {
    /** Starts storing the data of snapshot message {@code m}. */
    Sink open(Message m) throws IOException;
  }

  /** One incoming snapshot's data. */
  public interface Sink {
    void write(ByteString chunk) throws IOException;

    /** Makes the data durable; the message is handed to raft after this returns. */
    void finish() throws IOException;

    /** Drops what was received (the stream failed). */
    void abort();
  }

  /** Sends and accepts no data: the snapshot message alone travels (tests of the raft loop). */
  public static final Source NO_DATA = s -> new Reader() {
    @Override
    public ByteString next() {
      return null;
    }

    @Override
    public void close() {}
  };

  public static final Receiver DISCARD = m -> new Sink() {
    @Override
    public void write(ByteString chunk) {}

    @Override
    public void finish() {}

    @Override
    public void abort() {}
  };
}
