package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3lockpb.LockGrpc;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes every client request the member decodes, through one real member on loopback: the bytes of
 * a gRPC request message of any method of every service it serves (KV, Watch, Lease, Cluster,
 * Maintenance, Auth, v3election, v3lock), sent unparsed, and the body of a JSON gateway request to
 * any of its {@code /v3/...} paths. The only outcomes allowed are an answer or a gRPC status (HTTP:
 * a response with a status), within a deadline; afterwards the member still takes a put and reads it
 * back.
 *
 * <p>Requests that legitimately stop a single member from taking puts are not sent: membership
 * changes, leader moves, enabling auth and raising alarms (their messages are fuzzed by the
 * decoding they share with every other request, protobuf's parser and the gateway's JSON mapping).
 */
class ClientRequestFuzzTest {
  /** Methods whose success takes the member out of service on purpose. */
  private static final Set<String> NOT_SENT = Set.of(
      "etcdserverpb.Cluster/MemberAdd", "etcdserverpb.Cluster/MemberRemove", "etcdserverpb.Cluster/MemberUpdate",
      "etcdserverpb.Cluster/MemberPromote", "etcdserverpb.Maintenance/MoveLeader",
      "etcdserverpb.Maintenance/Alarm", "etcdserverpb.Auth/AuthEnable");
  /** Unary methods that wait for a lock or an election. */
  private static final Set<String> WAITING = Set.of("v3lockpb.Lock/Lock", "v3electionpb.Election/Campaign");
  private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
  /** Unary calls: a hang past this is a finding. Streams end at their deadline. */
  private static final long UNARY_DEADLINE_MS = 5_000;
  private static final long STREAM_DEADLINE_MS = 300;

  private static Path dir;
  private static EtcdServer server;
  private static ClientServer clients;
  private static ManagedChannel channel;
  private static HttpClient http;
  private static int port;
  /** Every method sent, in a fixed order (the first input byte indexes it), taking and giving raw bytes. */
  static final List<MethodDescriptor<byte[], byte[]>> METHODS = methods();
  /** The gateway's paths (etcd's grpc-gateway routes) but those of {@link #NOT_SENT}. */
  static final List<String> PATHS = List.of(
      "/v3/auth/authenticate",
      "/v3/auth/disable",
      "/v3/auth/role/add",
      "/v3/auth/role/delete",
      "/v3/auth/role/get",
      "/v3/auth/role/grant",
      "/v3/auth/role/list",
      "/v3/auth/role/revoke",
      "/v3/auth/user/add",
      "/v3/auth/user/changepw",
      "/v3/auth/user/delete",
      "/v3/auth/user/get",
      "/v3/auth/user/grant",
      "/v3/auth/user/list",
      "/v3/auth/user/revoke",
      "/v3/cluster/member/list",
      "/v3/election/campaign",
      "/v3/election/leader",
      "/v3/election/observe",
      "/v3/election/proclaim",
      "/v3/election/resign",
      "/v3/kv/compaction",
      "/v3/kv/deleterange",
      "/v3/kv/lease/leases",
      "/v3/kv/lease/revoke",
      "/v3/kv/lease/timetolive",
      "/v3/kv/put",
      "/v3/kv/range",
      "/v3/kv/txn",
      "/v3/lease/grant",
      "/v3/lease/keepalive",
      "/v3/lease/leases",
      "/v3/lease/revoke",
      "/v3/lease/timetolive",
      "/v3/lock/lock",
      "/v3/lock/unlock",
      "/v3/maintenance/defragment",
      "/v3/maintenance/hash",
      "/v3/maintenance/snapshot",
      "/v3/maintenance/status",
      "/v3/watch");
  private static final AtomicLong CHECKS = new AtomicLong();

  @BeforeAll
  static void serve() throws Exception {
    Path shm = Path.of("/dev/shm");
    dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
        "kvorum-client-fuzz");
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "m";
    b.dataDir = dir.resolve("m");
    URI peer = URI.create("http://127.0.0.1:0");
    URI client = URI.create("http://127.0.0.1:0");
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.listenClientUrls = List.of(client);
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = 500;
    server = EtcdServer.start(b.build());
    clients = ClientServer.start(server, List.of(client));
    port = clients.ports().get(0);
    LocalCluster.await("a leader", () -> server.leader() != 0);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * Jazzer's request-forgery detector reports every connection it was not told about; the test's
   * own connections go to the member on loopback, whatever the input. Without Jazzer's agent (a
   * plain regression run may not load it) there is no detector and nothing to allow.
   */
  private static SilentCloseable allowLoopback() {
    try {
      return BugDetectors.allowNetworkConnections(
          (host, p) -> (host.equals("127.0.0.1") || host.equals("localhost")) && p == port);
    } catch (IllegalStateException noAgent) {
      return () -> {};
    }
  }

  private static List<MethodDescriptor<byte[], byte[]>> methods() {
    List<MethodDescriptor<byte[], byte[]>> out = new ArrayList<>();
    for (ServiceDescriptor s : List.of(KVGrpc.getServiceDescriptor(), WatchGrpc.getServiceDescriptor(),
        LeaseGrpc.getServiceDescriptor(), ClusterGrpc.getServiceDescriptor(), MaintenanceGrpc.getServiceDescriptor(),
        AuthGrpc.getServiceDescriptor(), ElectionGrpc.getServiceDescriptor(), LockGrpc.getServiceDescriptor())) {
      s.getMethods().stream()
          .filter(m -> !NOT_SENT.contains(m.getFullMethodName()))
          .sorted(Comparator.comparing(MethodDescriptor::getFullMethodName))
          .forEach(m -> out.add(m.toBuilder(RAW, RAW).build()));
    }
    return List.copyOf(out);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    clients.close();
    server.close();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The first input byte picks the method (modulo their number); the rest is the request message's bytes. */
  @FuzzTest(maxDuration = "3m")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void grpcRequest(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    MethodDescriptor<byte[], byte[]> m = METHODS.get(Byte.toUnsignedInt(input[0]) % METHODS.size());
    byte[] request = Arrays.copyOfRange(input, 1, input.length);
    // Lock and Campaign wait for their turn: like streams, they may end at their deadline.
    boolean unary = m.getType() == MethodDescriptor.MethodType.UNARY && !WAITING.contains(m.getFullMethodName());
    long deadlineMs = unary ? UNARY_DEADLINE_MS : STREAM_DEADLINE_MS;
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(m,
        CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(request);
    call.halfClose();
    Status st = closed.get(deadlineMs + 5_000, TimeUnit.MILLISECONDS);
    // Every failure is one of etcd's statuses, never an exception that escaped a handler (gRPC's
    // UNKNOWN "Application error processing RPC"). etcd's v3election and v3lock servers return their
    // errors as UNKNOWN with etcd's text, so only there UNKNOWN is etcd's answer.
    boolean plainErrors = m.getServiceName().startsWith("v3electionpb.") || m.getServiceName().startsWith("v3lockpb.");
    if (st.getCode() == Status.Code.UNKNOWN) {
      assertThat(plainErrors).as("%s: %s", m.getFullMethodName(), st).isTrue();
      assertThat(st.getDescription()).as("%s: %s", m.getFullMethodName(), st).isNotNull()
          .doesNotStartWith("Application error");
    }
    if (unary) {
      assertThat(st.getCode()).as("%s: %s", m.getFullMethodName(), st).isNotEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }
    stillServes();
  }

  /** Found by fuzzing: a truncated request got grpc-java's UNKNOWN "Application error processing RPC". */
  @org.junit.jupiter.api.Test
  void truncatedRequest_refusedAsGrpcGoRefusesIt() throws Exception {
    MethodDescriptor<byte[], byte[]> userGet = METHODS.stream()
        .filter(m -> m.getFullMethodName().equals("etcdserverpb.Auth/UserGet")).findFirst().orElseThrow();
    // Field 1 (name) says 16 bytes follow; 5 do.
    byte[] truncated = {0x0a, 0x10, 0, 0, 0, 1, 0x75};
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(userGet,
        CallOptions.DEFAULT.withDeadlineAfter(UNARY_DEADLINE_MS, TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(truncated);
    call.halfClose();
    Status st = closed.get(UNARY_DEADLINE_MS + 5_000, TimeUnit.MILLISECONDS);
    assertThat(st.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(st.getDescription()).startsWith("grpc: error unmarshalling request: ");
    stillServes();
  }

  /** The first input byte picks the gateway path (modulo their number); the rest is the JSON body. */
  @FuzzTest(maxDuration = "3m")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void gatewayRequest(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    String path = PATHS.get(Byte.toUnsignedInt(input[0]) % PATHS.size());
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    boolean stream = Set.of("/v3/watch", "/v3/lease/keepalive", "/v3/maintenance/snapshot", "/v3/election/observe",
        "/v3/lock/lock", "/v3/election/campaign").contains(path);
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofMillis(stream ? STREAM_DEADLINE_MS : UNARY_DEADLINE_MS))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .header("Content-Type", "application/json").build();
    SilentCloseable allowed = allowLoopback();
    try {
      HttpResponse<java.io.InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      // A stream stays open after its request body ends, as etcd's gateway keeps it (the request
      // timeout covers only the response head): it is read for the stream deadline, then closed.
      byte[] got = stream ? readFor(r.body(), STREAM_DEADLINE_MS) : r.body().readAllBytes();
      // A refusal is a client error or etcd's mapped gRPC status; never a 500 from an escaped exception
      // without a gRPC error body.
      assertThat(r.statusCode()).as("%s: %s", path, new String(got, java.nio.charset.StandardCharsets.UTF_8))
          .isBetween(200, 599);
      if (r.statusCode() == 500) {
        assertThat(new String(got, java.nio.charset.StandardCharsets.UTF_8)).as(path).contains("\"code\"");
      }
    } catch (java.net.http.HttpTimeoutException e) {
      assertThat(stream).as("%s timed out", path).isTrue();
    } finally {
      allowed.close();
    }
    stillServes();
  }

  /** What a streamed body delivers in {@code ms}; the stream is closed then, which ends the read. */
  private static byte[] readFor(java.io.InputStream in, long ms) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS).execute(() -> {
      try {
        in.close();
      } catch (java.io.IOException e) {
        // Closed already.
      }
    });
    byte[] buf = new byte[8192];
    try (in) {
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
      }
    } catch (java.io.IOException closed) {
      // The deadline closed it: what arrived until then is the answer.
    }
    return out.toByteArray();
  }

  /** The member still commits a put and reads it back. */
  private static void stillServes() {
    ByteString key = ByteString.copyFromUtf8("fuzz-check");
    ByteString value = ByteString.copyFromUtf8(Long.toString(CHECKS.incrementAndGet()));
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    kv.put(PutRequest.newBuilder().setKey(key).setValue(value).build());
    assertThat(kv.range(RangeRequest.newBuilder().setKey(key).build()).getKvs(0).getValue()).isEqualTo(value);
  }
}
