package io.kvorum.bench.path;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.server.alarm.AlarmStore;
import io.kvorum.server.apply.ApplierChain;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.auth.SimpleTokens;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The apply step of committed entries: a batch of 100 encoded put entries (256-byte values)
 * through the whole applier chain — decode, alarm/auth/quota links, the MVCC write and the typed
 * result — as the apply thread runs it. The score is entries per second.
 *
 * <p>Run (the server benchmarks need the cli's classpath): {@code java -cp "bench/target/benchmarks.jar:cli/target/kvorum-cli.jar:cli/target/lib/*" org.openjdk.jmh.Main ApplyBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ApplyBenchmark {
  static final int BATCH = 100;

  private Path dir;
  private Backend backend;
  private KvStore store;
  private ApplierChain chain;
  private final byte[][] entries = new byte[BATCH][];
  private long index;
  private long results;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kvorum-apply-bench");
    backend = Backend.open(dir);
    store = KvStore.open(backend);
    ResponseHeader base = ResponseHeader.newBuilder().setClusterId(1).setMemberId(2).setRaftTerm(3).build();
    chain = new ApplierChain(store, new Lessor(1, () -> 0L, 0),
        new AuthStore(backend, new SimpleTokens(new FakeClock(), Duration.ZERO)), new AlarmStore(backend),
        new BackendQuota(ServerConfig.QUOTA_BACKEND_BYTES_DEFAULT, store::sizeBytes), rev -> base.toBuilder().setRevision(rev).build(), (ctx, a) -> { }, new ApplierChain.Results() {
          @Override
          public void complete(long requestId, Object result) {
            results++;
          }

          @Override
          public void fail(long requestId, EtcdException error) {
            throw error;
          }
        });
    for (int i = 0; i < BATCH; i++) {
      entries[i] = InternalRaftRequest.newBuilder().setHeader(RequestHeader.newBuilder().setId(i + 1))
          .setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("/registry/pods/default/pod-" + i))
              .setValue(ByteString.copyFrom(new byte[256])))
          .build().toByteArray();
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    backend.close();
    SnapshotLoader.deleteTree(dir);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long applyBatch() {
    for (byte[] e : entries) {
      chain.apply(new ConsistentIndex(++index, 1), e);
    }
    return results;
  }
}
