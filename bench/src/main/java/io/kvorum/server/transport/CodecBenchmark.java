package io.kvorum.server.transport;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Request encode/decode on the write path: a put as the proposer encodes it into a log entry and
 * the applier decodes it, and a raft append of 16 such entries as the peer transport encodes it
 * to its wire message, serializes, parses and decodes it (in the transport package, as the codec
 * is package-private).
 *
 * <p>Run (the server benchmarks need the cli's classpath): {@code java -cp "bench/target/benchmarks.jar:cli/target/kvorum-cli.jar:cli/target/lib/*" org.openjdk.jmh.Main CodecBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CodecBenchmark {
  private PutRequest put;
  private byte[] entryBytes;
  private Message append;
  private byte[] appendBytes;
  private long id;

  @Setup
  public void prepare() {
    put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("/registry/pods/default/pod-00000001"))
        .setValue(ByteString.copyFrom(new byte[256])).build();
    entryBytes = encodePut();
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      entries.add(new Entry(3, 100 + i, EntryType.NORMAL, entryBytes));
    }
    append = new Message(MessageType.APP, 2, 1, 3, 3, 99, entries, 99, null, false, 0, null);
    appendBytes = MessageCodec.encode(append).toByteArray();
  }

  @Benchmark
  public byte[] encodePut() {
    return InternalRaftRequest.newBuilder().setHeader(RequestHeader.newBuilder().setId(++id)).setPut(put)
        .build().toByteArray();
  }

  @Benchmark
  public Object decodePut() throws Exception {
    return InternalRaftRequest.parseFrom(entryBytes).getPut();
  }

  @Benchmark
  public byte[] encodeAppend() {
    return MessageCodec.encode(append).toByteArray();
  }

  @Benchmark
  public Message decodeAppend() throws Exception {
    return MessageCodec.decode(io.kvorum.proto.raftpb.Message.parseFrom(appendBytes));
  }
}
