package io.kvorum.server.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.AuthenticateResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.api.ClientServer;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.gojson.GoJson;
import io.kvorum.server.testing.LocalCluster;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON gateway, health and version endpoints through a plain HTTP/1.1 client, on the same
 * port that serves gRPC, checked against the bodies etcd 3.4.23 sends.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JsonGatewayTest {
  private static final Duration CALL = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(CALL).build();
  private EtcdServer server;
  private ClientServer clients;
  private int port;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private void serve(long maxConcurrentStreams, List<URI> metricsUrls) throws Exception {
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
    b.maxConcurrentStreams = maxConcurrentStreams;
    b.listenMetricsUrls = metricsUrls;
    server = EtcdServer.start(b.build());
    toClose.add(server);
    clients = ClientServer.start(server, List.of(client));
    toClose.add(clients);
    port = clients.ports().get(0);
    LocalCluster.await("a leader", () -> server.leader() != 0);
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(CALL)
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/x-www-form-urlencoded");
    if (headers.length > 0) {
      r.headers(headers);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(CALL).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T parse(String json, T prototype) throws Exception {
    Message.Builder b = prototype.newBuilderForType();
    JsonFormat.parser().merge(json, b);
    return (T) b.build();
  }

  @Test
  void kv_putRangeTxn_asEtcdJson() throws Exception {
    serve(0, List.of());
    HttpResponse<String> put = post("/v3/kv/put", "{\"key\":\"" + b64("foo") + "\",\"value\":\"" + b64("bar") + "\"}");
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(put.headers().firstValue("Content-Type")).hasValue("application/json");
    // 64-bit integers as strings, proto field names, one line.
    assertThat(put.body()).matches("\\{\"header\":\\{\"cluster_id\":\"\\d+\",\"member_id\":\"\\d+\","
        + "\"revision\":\"2\",\"raft_term\":\"\\d+\"\\}\\}");

    // /v3beta is rewritten to /v3; 64-bit fields are accepted as numbers too.
    HttpResponse<String> range = post("/v3beta/kv/range", "{\"key\":\"" + b64("foo") + "\",\"revision\":2}");
    RangeResponse rr = parse(range.body(), RangeResponse.getDefaultInstance());
    assertThat(rr.getKvs(0).getValue().toStringUtf8()).isEqualTo("bar");
    assertThat(range.body()).contains("\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
        + "\"version\":\"1\",\"value\":\"YmFy\"}],\"count\":\"1\"");

    String txn = "{\"compare\":[{\"target\":\"VALUE\",\"key\":\"" + b64("foo") + "\",\"value\":\"" + b64("bar")
        + "\"}],\"success\":[{\"request_put\":{\"key\":\"" + b64("foo") + "\",\"value\":\"" + b64("baz")
        + "\"}}]}";
    TxnResponse tr = parse(post("/v3/kv/txn", txn).body(), TxnResponse.getDefaultInstance());
    assertThat(tr.getSucceeded()).isTrue();
    // The compare fails now: the failure branch's range answers, and false is left out.
    String failing = txn.replace("]}", "],\"failure\":[{\"request_range\":{\"key\":\"" + b64("foo") + "\"}}]}");
    assertThat(post("/v3/kv/txn", failing).body()).contains("\"responses\":[{\"response_range\":{\"header\":")
        .doesNotContain("succeeded");

    // The same member answers gRPC on the same port.
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    toClose.add(ch::shutdownNow);
    assertThat(KVGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
        .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("foo")).build()).getKvs(0).getValue()
        .toStringUtf8()).isEqualTo("baz");
  }

  @Test
  void routes_everyEtcdGatewayPathReachesAServedMethod() throws Exception {
    serve(0, List.of());
    // etcd 3.4's grpc-gateway paths (two methods share /v3/maintenance/hash; the first one wins).
    assertThat(clients.gateway().routes()).hasSize(48);
    assertThat(clients.gateway().routes().get("/v3/maintenance/hash").method().getFullMethodName())
        .isEqualTo("etcdserverpb.Maintenance/Hash");
    for (String path : List.of("/v3/cluster/member/list", "/v3/maintenance/status", "/v3/maintenance/alarm",
        "/v3/auth/user/list", "/v3/election/leader", "/v3/lock/unlock")) {
      HttpResponse<String> r = post(path, "{}");
      assertThat(r.statusCode()).as(path).isIn(200, 400, 404, 412, 500);
      assertThat(r.headers().firstValue("Content-Type")).as(path).hasValue("application/json");
    }
  }

  @Test
  void errors_asGrpcGateway() throws Exception {
    serve(0, List.of());
    HttpResponse<String> future = post("/v3/kv/range", "{\"key\":\"" + b64("foo") + "\",\"revision\":\"100\"}");
    assertThat(future.statusCode()).isEqualTo(400);
    assertThat(future.body()).isEqualTo("{\"error\":\"etcdserver: mvcc: required revision is a future revision\","
        + "\"message\":\"etcdserver: mvcc: required revision is a future revision\",\"code\":11}");
    assertThat(future.headers().firstValue("Trailer")).hasValue("Grpc-Trailer-Content-Type");

    HttpResponse<String> lease = post("/v3/kv/lease/revoke", "{\"ID\":\"123\"}");
    assertThat(lease.statusCode()).isEqualTo(404);
    assertThat(lease.body()).contains("\"code\":5").contains("etcdserver: requested lease not found");

    HttpResponse<String> bad = post("/v3/kv/range", "{\"key\":");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("\"code\":3");

    assertThat(get("/v3/kv/range").statusCode()).isEqualTo(405);
    HttpResponse<String> unknown = post("/v3/kv/nothing", "{}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("Not Found\n");
    HttpResponse<String> alpha = post("/v3alpha/kv/range", "{}");
    assertThat(alpha.statusCode()).isEqualTo(404);
    assertThat(alpha.body()).isEqualTo("404 page not found\n");
  }

  /**
   * Bodies that do not decode, each answered as etcd 3.4.23's gateway answered it (status and body
   * recorded from the real etcd): Go's JSON texts, the plain error body, the unary call's
   * InvalidArgument and a stream's Unknown; a unary call reads only the first value.
   */
  @Test
  void malformedBodies_answeredWithEtcdsWords() throws Exception {
    serve(0, List.of());
    String[][] unary = {
        {"{{{}", "invalid character '{' looking for beginning of object key string"},
        {"z{{{}", "invalid character 'z' looking for beginning of value"},
        {"[1]", "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
        {"\"str\"", "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
        {"nul", "unexpected EOF"},
        {"{\"key\":1}", "json: cannot unmarshal number into Go value of type []uint8"},
        {"{\"key\":\"!!\"}", "illegal base64 data at input byte 0"},
        {"{\"key\":\"YQ\"}", "illegal base64 data at input byte 0"},
        {"{\"lease\":\"x\"}", "invalid character 'x' looking for beginning of value"},
        {"{\"key\":\"YQ==\",}", "invalid character '}' looking for beginning of object key string"},
        {"{\"key\":\"a\\q\"}", "invalid character 'q' in string escape code"},
    };
    for (String[] c : unary) {
      HttpResponse<String> r = post("/v3/kv/put", c[0]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(r.body()).as(c[0]).isEqualTo("{\"error\":" + GoJson.quote(c[1]) + ",\"message\":"
          + GoJson.quote(c[1]) + ",\"code\":3}");
      assertThat(r.headers().firstValue("Trailer")).as(c[0]).isEmpty();
    }
    HttpResponse<String> sortOrder = post("/v3/kv/range", "{\"key\":\"YQ==\",\"sort_order\":\"BAD\"}");
    assertThat(sortOrder.body()).contains("unknown value \\\"BAD\\\" for enum etcdserverpb.RangeRequest_SortOrder");

    // Only the first value of a unary call's body is read: what follows is never looked at.
    HttpResponse<String> trailing = post("/v3/kv/put", "{\"key\":\"" + b64("t") + "\"} garbage");
    assertThat(trailing.statusCode()).isEqualTo(200);

    // A stream's first message that does not decode: the plain error body, Unknown, HTTP 500.
    HttpResponse<String> watch = post("/v3/watch", "{\"create_request\":{\"filters\":[\"NOPUT\",\"BAD\"]}}");
    assertThat(watch.statusCode()).isEqualTo(500);
    assertThat(watch.body()).isEqualTo("{\"error\":\"unknown value \\\"BAD\\\" for enum"
        + " etcdserverpb.WatchCreateRequest_FilterType\",\"message\":\"unknown value \\\"BAD\\\" for enum"
        + " etcdserverpb.WatchCreateRequest_FilterType\",\"code\":2}");
    HttpResponse<String> ka = post("/v3/lease/keepalive", "nul");
    assertThat(ka.statusCode()).isEqualTo(500);
    assertThat(ka.body()).isEqualTo("{\"error\":\"unexpected EOF\",\"message\":\"unexpected EOF\",\"code\":2}");
  }

  @Test
  void healthAndVersion_asEtcd() throws Exception {
    serve(0, List.of(URI.create("http://127.0.0.1:0")));
    HttpResponse<String> health = get("/health?serializable=true");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"health\":\"true\"}");
    assertThat(get("/version").body()).isEqualTo("{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}");
    assertThat(get("/livez").body()).isEqualTo("ok\n");
    assertThat(get("/readyz?verbose").body())
        .isEqualTo("[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n");
    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(metrics.body()).contains("etcd_server_version{server_version=\"3.4.23\"} 1")
        .contains("etcd_server_health_success");
    // The metrics URL serves health and metrics only.
    int metricsPort = clients.metricsPorts().get(0);
    HttpResponse<String> viaMetrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + metricsPort + "/health")).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(viaMetrics.body()).isEqualTo("{\"health\":\"true\"}");
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/v3/kv/range"))
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(404);
    HttpResponse<String> post = post("/health", "");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET");
  }

  @Test
  void watch_streamsResultsAndOutlivesTheRequestBody() throws Exception {
    serve(0, List.of());
    post("/v3/kv/put", "{\"key\":\"" + b64("w") + "\",\"value\":\"" + b64("1") + "\"}");
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/watch"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"" + b64("w")
            + "\",\"start_revision\":\"1\"}}"))
        .build();
    HttpResponse<InputStream> stream = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.headers().firstValue("Transfer-Encoding")).hasValue("chunked");
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
      WatchResponse created = result(lines.readLine());
      assertThat(created.getCreated()).isTrue();
      WatchResponse past = result(lines.readLine());
      assertThat(past.getEvents(0).getKv().getValue().toStringUtf8()).isEqualTo("1");
      // The request body ended long ago: the watch goes on.
      post("/v3/kv/put", "{\"key\":\"" + b64("w") + "\",\"value\":\"" + b64("2") + "\"}");
      WatchResponse next = result(lines.readLine());
      assertThat(next.getEvents(0).getKv().getValue().toStringUtf8()).isEqualTo("2");
    }
  }

  private static WatchResponse result(String line) throws Exception {
    assertThat(line).startsWith("{\"result\":{");
    return parse(line.substring("{\"result\":".length(), line.length() - 1), WatchResponse.getDefaultInstance());
  }

  @Test
  void leaseKeepAlive_answersEachRequestThenEnds() throws Exception {
    serve(0, List.of());
    LeaseGrantResponse grant = parse(post("/v3/lease/grant", "{\"TTL\":30}").body(),
        LeaseGrantResponse.getDefaultInstance());
    HttpResponse<String> ka = post("/v3/lease/keepalive", "{\"ID\":\"" + grant.getID() + "\"}\n{\"ID\":"
        + grant.getID() + "}");
    assertThat(ka.statusCode()).isEqualTo(200);
    String[] lines = ka.body().split("\n");
    assertThat(lines).hasSize(2);
    for (String l : lines) {
      LeaseKeepAliveResponse r = parse(l.substring("{\"result\":".length(), l.length() - 1),
          LeaseKeepAliveResponse.getDefaultInstance());
      assertThat(r.getID()).isEqualTo(grant.getID());
      assertThat(r.getTTL()).isEqualTo(30);
    }
  }

  @Test
  void auth_tokenInAuthorizationHeader() throws Exception {
    serve(0, List.of());
    assertThat(post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"pw\"}").statusCode()).isEqualTo(200);
    post("/v3/auth/role/add", "{\"name\":\"root\"}");
    post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}");
    assertThat(post("/v3/auth/enable", "{}").statusCode()).isEqualTo(200);

    HttpResponse<String> anonymous = post("/v3/kv/put", "{\"key\":\"" + b64("a") + "\"}");
    assertThat(anonymous.statusCode()).isEqualTo(400);
    assertThat(anonymous.body()).contains("etcdserver: user name is empty");

    String token = parse(post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"pw\"}").body(),
        AuthenticateResponse.getDefaultInstance()).getToken();
    assertThat(post("/v3/kv/put", "{\"key\":\"" + b64("a") + "\"}", "Authorization", token).statusCode())
        .isEqualTo(200);
    HttpResponse<String> forged = post("/v3/kv/put", "{\"key\":\"" + b64("a") + "\"}", "Authorization", "bad.1");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.body()).contains("etcdserver: invalid auth token");
  }

  @Test
  void maxConcurrentStreams_extraGatewayCallsWaitForASlot() throws Exception {
    serve(2, List.of());
    List<CompletableFuture<HttpResponse<InputStream>>> watches = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/watch"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"" + b64("x") + "\"}}")).build();
      HttpResponse<InputStream> w = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      // The first line is the created response: the watch holds its slot from now on.
      new BufferedReader(new InputStreamReader(w.body(), StandardCharsets.UTF_8)).readLine();
      watches.add(CompletableFuture.completedFuture(w));
    }
    CompletableFuture<HttpResponse<String>> range = http.sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/kv/range"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + b64("x") + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    LocalCluster.await("the range waits for a stream", () -> waitingGatewayCalls() == 1);
    assertThat(range).isNotDone();
    // Closing one watch's connection gives its slot to the range.
    watches.get(0).join().body().close();
    assertThat(range.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(clients.gateway().activeCalls()).isEqualTo(1);
  }

  /**
   * A client streaming a watch's requests while the call waits for a {@code --max-concurrent-streams}
   * slot is pushed back by TCP: the gateway reads a body only while its call takes the messages, so
   * they do not pile up in the member; once the call starts, the body is read on.
   */
  @Test
  void watch_bodyStreamedWhileTheCallWaitsForASlot_isNotReadAhead() throws Exception {
    serve(1, List.of());
    HttpRequest hold = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/watch"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"" + b64("x") + "\"}}")).build();
    HttpResponse<InputStream> holder = http.send(hold, HttpResponse.BodyHandlers.ofInputStream());
    new BufferedReader(new InputStreamReader(holder.body(), StandardCharsets.UTF_8)).readLine();
    long bodyMax = 64L << 20;
    try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open();
        java.nio.channels.Selector writable = java.nio.channels.Selector.open()) {
      ch.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 64 * 1024);
      ch.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
      ch.write(java.nio.ByteBuffer.wrap(("POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
      LocalCluster.await("the second watch waits for a stream", () -> waitingGatewayCalls() == 1);
      ch.configureBlocking(false);
      ch.register(writable, java.nio.channels.SelectionKey.OP_WRITE);
      ChunkedBody body = new ChunkedBody(ch, writable, "{\"create_request\":{\"key\":\"" + b64("y") + "\"}}\n");
      long written = body.writeUntilStalled(bodyMax, Duration.ofSeconds(2));
      // What was written sits in the sockets' buffers and one read of the gateway, not in the member.
      assertThat(written).isLessThan(bodyMax / 4);
      assertThat(waitingGatewayCalls()).isEqualTo(1);
      holder.body().close();
      assertThat(body.writeUntilStalled(bodyMax, Duration.ofSeconds(5))).isGreaterThan(written);
    }
  }

  /** A chunked request body of one JSON message repeated, written without blocking. */
  private static final class ChunkedBody {
    private final java.nio.channels.SocketChannel ch;
    private final java.nio.channels.Selector writable;
    private final java.nio.ByteBuffer chunk;
    private long written;

    ChunkedBody(java.nio.channels.SocketChannel ch, java.nio.channels.Selector writable, String message) {
      this.ch = ch;
      this.writable = writable;
      String data = message.repeat(8192 / message.length());
      byte[] bytes = (Integer.toHexString(data.length()) + "\r\n" + data + "\r\n").getBytes(StandardCharsets.US_ASCII);
      this.chunk = java.nio.ByteBuffer.wrap(bytes);
    }

    /** Writes until {@code max} bytes in all went or the socket took nothing for {@code stall}; the total. */
    long writeUntilStalled(long max, Duration stall) throws java.io.IOException {
      while (written < max) {
        if (!chunk.hasRemaining()) {
          chunk.rewind();
        }
        int n = ch.write(chunk);
        written += n;
        if (n == 0) {
          writable.selectedKeys().clear();
          if (writable.select(stall.toMillis()) == 0) {
            return written;
          }
        }
      }
      return written;
    }
  }

  private int waitingGatewayCalls() {
    return clients.gateway().waitingCalls();
  }
}
