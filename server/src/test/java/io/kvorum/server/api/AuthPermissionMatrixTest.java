package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleListRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserListRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.MemberAddResponse;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberRemoveRequest;
import io.kvorum.proto.etcdserverpb.MemberUpdateRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.io.FileWriter;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every client RPC against every kind of caller, asserting etcd 3.4.23's answer — the gRPC code
 * and the exact message — in each cell (a watch: its cancel reason). Callers: auth disabled; root;
 * a user holding exactly the permission the call needs (readwrite on key {@code k}); a user with
 * the neighbouring ranges ({@code [a, k)} and {@code k\0}); a user without roles; no credentials;
 * an expired token; a simple token obtained before a role change (it takes the store's current
 * revision, so it still works); a JWT obtained before a role change (it carries its revision).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AuthPermissionMatrixTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  enum Who { NO_AUTH, ROOT, EXACT, NEIGHBOUR, NO_ROLES, ANONYMOUS, EXPIRED, SIMPLE_BEFORE_CHANGE, JWT_BEFORE_CHANGE }

  private static final String OK = "OK";
  private static final String NA = "n/a";
  private static final ByteString K = ByteString.copyFromUtf8("k");

  /** The answers of one kind of check, per caller. */
  private static Map<Who, String> pattern(String exact, String neighbour, String noRoles, String anonymous,
      String expired, String simpleBefore, String jwtBefore) {
    Map<Who, String> m = new EnumMap<>(Who.class);
    m.put(Who.NO_AUTH, OK);
    m.put(Who.ROOT, OK);
    m.put(Who.EXACT, exact);
    m.put(Who.NEIGHBOUR, neighbour);
    m.put(Who.NO_ROLES, noRoles);
    m.put(Who.ANONYMOUS, anonymous);
    m.put(Who.EXPIRED, expired);
    m.put(Who.SIMPLE_BEFORE_CHANGE, simpleBefore);
    m.put(Who.JWT_BEFORE_CHANGE, jwtBefore);
    return m;
  }

  private static String e(EtcdError e) {
    return e.code() + ": " + e.message();
  }

  private static final String PD = e(EtcdError.PERMISSION_DENIED);
  private static final String EMPTY = e(EtcdError.USER_EMPTY);
  private static final String BAD_TOKEN = e(EtcdError.INVALID_AUTH_TOKEN);
  private static final String OLD = e(EtcdError.AUTH_OLD_REVISION);
  /** Read or write on key k. */
  private static final Map<Who, String> KEY = pattern(OK, PD, PD, EMPTY, BAD_TOKEN, OK, OLD);
  /** Needs more than the exact user holds. */
  private static final Map<Who, String> KEY_BEYOND_EXACT = pattern(PD, PD, PD, EMPTY, BAD_TOKEN, PD, OLD);
  /** The root role (no auth-revision check in etcd's admin check). */
  private static final Map<Who, String> ADMIN = pattern(PD, PD, PD, EMPTY, BAD_TOKEN, PD, PD);
  /** The Maintenance service's admin check: etcd sends the auth store's errors unmapped (UNKNOWN). */
  private static final Map<Who, String> MAINTENANCE_ADMIN = pattern(e(EtcdError.AUTH_UNMAPPED_PERMISSION_DENIED),
      e(EtcdError.AUTH_UNMAPPED_PERMISSION_DENIED), e(EtcdError.AUTH_UNMAPPED_PERMISSION_DENIED),
      e(EtcdError.AUTH_UNMAPPED_USER_EMPTY), e(EtcdError.AUTH_UNMAPPED_INVALID_AUTH_TOKEN),
      e(EtcdError.AUTH_UNMAPPED_PERMISSION_DENIED), e(EtcdError.AUTH_UNMAPPED_PERMISSION_DENIED));
  /** No check, but the token is read (a call through the log). */
  private static final Map<Who, String> IDENTIFIED = pattern(OK, OK, OK, OK, BAD_TOKEN, OK, OK);
  /** Neither a check nor a look at the token. */
  private static final Map<Who, String> UNCHECKED = pattern(OK, OK, OK, OK, OK, OK, OK);
  /** UserGet of the caller itself. */
  private static final Map<Who, String> SELF = pattern(OK, OK, OK, EMPTY, BAD_TOKEN, OK, OK);
  /** RoleGet of the role the exact user holds. */
  private static final Map<Who, String> OWN_ROLE = pattern(OK, PD, PD, EMPTY, BAD_TOKEN, OK, OK);

  /** A call as one caller makes it; answers OK, "code: message", or a watch's cancel reason. */
  private interface Call {
    String run(Caller c) throws Exception;
  }

  private record Row(String name, Call call, Map<Who, String> expected) {}

  /** One member and what the calls need from it. */
  private final class Member {
    final LocalCluster cluster;
    final EtcdServer server;
    final ManagedChannel channel;
    final AtomicInteger serial = new AtomicInteger();
    /** The user each handed-out token names. */
    final Map<String, String> selves = new java.util.concurrent.ConcurrentHashMap<>();

    Member(String name, String authToken) throws IOException {
      cluster = LocalCluster.start(dir.resolve(name), 1, b -> {
        b.bcryptCost = 4;
        b.authToken = authToken;
        b.authTokenTtlSeconds = 60;
      });
      toClose.add(cluster);
      server = cluster.members().values().iterator().next();
      ClientServer cs = ClientServer.start(server, List.of(URI.create("http://127.0.0.1:0")));
      toClose.add(cs);
      channel = NettyChannelBuilder.forAddress("127.0.0.1", cs.ports().get(0)).usePlaintext().build();
      toClose.add(channel::shutdownNow);
      LocalCluster.await("a leader", () -> server.leader() != 0);
    }

    Caller as(String token) {
      return new Caller(this, token);
    }

    String token(String user, String password) {
      return AuthGrpc.newBlockingStub(channel).authenticate(
          AuthenticateRequest.newBuilder().setName(user).setPassword(password).build()).getToken();
    }

    /** A caller with a fresh token of {@code user}. */
    Caller named(String user, String password) {
      String t = token(user, password);
      selves.put(t, user);
      return as(t);
    }

    Caller root() {
      return as(server.authStore().isEnabled() ? token("root", "rootpw") : null);
    }
  }

  /** A member's channel with (or without) a token. */
  private record Caller(Member m, String token) {
    Channel ch() {
      if (token == null) {
        return m.channel;
      }
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), token);
      return ClientInterceptors.intercept(m.channel, MetadataUtils.newAttachHeadersInterceptor(md));
    }

    KVGrpc.KVBlockingStub kv() {
      return KVGrpc.newBlockingStub(ch()).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    LeaseGrpc.LeaseBlockingStub lease() {
      return LeaseGrpc.newBlockingStub(ch()).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    MaintenanceGrpc.MaintenanceBlockingStub maintenance() {
      return MaintenanceGrpc.newBlockingStub(ch()).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    ClusterGrpc.ClusterBlockingStub cluster() {
      return ClusterGrpc.newBlockingStub(ch()).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    AuthGrpc.AuthBlockingStub auth() {
      return AuthGrpc.newBlockingStub(ch()).withDeadlineAfter(20, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** Users, roles and permissions, made by root while auth is still disabled. */
  private static void setUp(Member m) {
    AuthGrpc.AuthBlockingStub a = AuthGrpc.newBlockingStub(m.channel);
    for (String[] u : new String[][] {{"root", "rootpw"}, {"exact", "pw"}, {"neighbour", "pw"}, {"noroles", "pw"}}) {
      a.userAdd(AuthUserAddRequest.newBuilder().setName(u[0]).setPassword(u[1]).build());
    }
    for (String r : new String[] {"root", "exact-role", "neighbour-role"}) {
      a.roleAdd(AuthRoleAddRequest.newBuilder().setName(r).build());
    }
    a.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("exact-role").setPerm(
        Permission.newBuilder().setKey(K).setPermType(Permission.Type.READWRITE)).build());
    a.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("neighbour-role").setPerm(
        Permission.newBuilder().setKey(b("a")).setRangeEnd(K).setPermType(Permission.Type.READWRITE)).build());
    a.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("neighbour-role").setPerm(
        Permission.newBuilder().setKey(b("k\0")).setPermType(Permission.Type.READWRITE)).build());
    a.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root").build());
    a.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("exact").setRole("exact-role").build());
    a.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("neighbour").setRole("neighbour-role").build());
    // A key that only root may write, for the lease rows.
    KVGrpc.newBlockingStub(m.channel).put(PutRequest.newBuilder().setKey(K).setValue(b("v")).build());
  }

  private static void enable(Member m) {
    AuthGrpc.newBlockingStub(m.channel).authEnable(AuthEnableRequest.getDefaultInstance());
  }

  /** A lease (granted by root) with {@code key} attached. */
  private static long leaseWith(Member m, ByteString key) {
    Caller root = m.root();
    long id = root.lease().leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build()).getID();
    root.kv().put(PutRequest.newBuilder().setKey(key).setValue(b("leased")).setLease(id).build());
    return id;
  }

  /** Opens a watch as {@code c}: OK when created, else its cancel reason (watch id -1). */
  private static String watch(Caller c, WatchCreateRequest.Builder create) throws InterruptedException {
    WatchLeaseGrpcTest.Recorder<WatchRequest, WatchResponse> in = new WatchLeaseGrpcTest.Recorder<>();
    StreamObserver<WatchRequest> out = WatchGrpc.newStub(c.ch()).watch(in);
    try {
      out.onNext(WatchRequest.newBuilder().setCreateRequest(create).build());
      Object r = in.next();
      assertThat(r).isInstanceOf(WatchResponse.class);
      WatchResponse w = (WatchResponse) r;
      assertThat(w.getCreated()).isTrue();
      if (!w.getCanceled()) {
        return OK;
      }
      assertThat(w.getWatchId()).isEqualTo(-1);
      return w.getCancelReason();
    } finally {
      out.onError(Status.CANCELLED.asRuntimeException());
    }
  }

  /** The rows: each client RPC, with what it needs. */
  private static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    rows.add(new Row("Range k", c -> ok(c.kv().range(RangeRequest.newBuilder().setKey(K).build())), KEY));
    rows.add(new Row("Range k serializable", c -> ok(c.kv().range(RangeRequest.newBuilder().setKey(K)
        .setSerializable(true).build())), KEY));
    rows.add(new Row("Range [k, l)", c -> ok(c.kv().range(RangeRequest.newBuilder().setKey(K).setRangeEnd(b("l"))
        .build())), KEY_BEYOND_EXACT));
    rows.add(new Row("Put k", c -> ok(c.kv().put(PutRequest.newBuilder().setKey(K).setValue(b("v")).build())), KEY));
    rows.add(new Row("Put k prev_kv", c -> ok(c.kv().put(PutRequest.newBuilder().setKey(K).setValue(b("v"))
        .setPrevKv(true).build())), KEY));
    rows.add(new Row("Put k with a lease holding root's key", c -> {
      long id = leaseWith(c.m(), b("rootonly"));
      return ok(c.kv().put(PutRequest.newBuilder().setKey(K).setValue(b("v")).setLease(id).build()));
    }, KEY_BEYOND_EXACT));
    rows.add(new Row("DeleteRange k", c -> ok(c.kv().deleteRange(DeleteRangeRequest.newBuilder().setKey(K).build())),
        KEY));
    rows.add(new Row("DeleteRange k prev_kv", c -> ok(c.kv().deleteRange(DeleteRangeRequest.newBuilder().setKey(K)
        .setPrevKv(true).build())), KEY));
    rows.add(new Row("Txn compare k, put k / range k", c -> ok(c.kv().txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(K).setTarget(Compare.CompareTarget.VERSION)
            .setResult(Compare.CompareResult.GREATER).setVersion(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(K).setValue(b("t"))))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(K))).build())), KEY));
    rows.add(new Row("Txn nested put k", c -> ok(c.kv().txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(
            RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(K).setValue(b("n"))))))
        .build())), KEY));
    rows.add(new Row("Txn nested put of root's key", c -> ok(c.kv().txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(
            RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("rootonly")).setValue(b("n"))))))
        .build())), KEY_BEYOND_EXACT));
    rows.add(new Row("Compact", c -> {
      long rev = c.m().root().kv().put(PutRequest.newBuilder().setKey(b("c")).setValue(b("c")).build())
          .getHeader().getRevision();
      return ok(c.kv().compact(CompactionRequest.newBuilder().setRevision(rev).build()));
    }, IDENTIFIED));
    rows.add(new Row("LeaseGrant", c -> ok(c.lease().leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build())),
        IDENTIFIED));
    rows.add(new Row("LeaseRevoke of a lease on k", c -> {
      long id = leaseWith(c.m(), K);
      return ok(c.lease().leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build()));
    }, KEY));
    rows.add(new Row("LeaseTimeToLive with keys", c -> {
      long id = leaseWith(c.m(), b("rootonly"));
      return ok(c.lease().leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(true).build()));
    }, UNCHECKED));
    rows.add(new Row("LeaseLeases", c -> ok(c.lease().leaseLeases(LeaseLeasesRequest.getDefaultInstance())),
        UNCHECKED));
    rows.add(new Row("Status", c -> ok(c.maintenance().status(StatusRequest.getDefaultInstance())), UNCHECKED));
    rows.add(new Row("MemberList", c -> ok(c.cluster().memberList(MemberListRequest.getDefaultInstance())),
        UNCHECKED));
    rows.add(new Row("Hash", c -> ok(c.maintenance().hash(HashRequest.getDefaultInstance())), MAINTENANCE_ADMIN));
    rows.add(new Row("HashKV", c -> ok(c.maintenance().hashKV(HashKVRequest.getDefaultInstance())),
        MAINTENANCE_ADMIN));
    rows.add(new Row("Defragment", c -> ok(c.maintenance().defragment(DefragmentRequest.getDefaultInstance())),
        MAINTENANCE_ADMIN));
    rows.add(new Row("Alarm list", c -> ok(c.maintenance().alarm(AlarmRequest.getDefaultInstance())), IDENTIFIED));
    rows.add(new Row("MemberAdd (learner)", c -> {
      int port = LocalCluster.freePort();
      MemberAddResponse r = c.cluster().memberAdd(MemberAddRequest.newBuilder()
          .addPeerURLs("http://127.0.0.1:" + port).setIsLearner(true).build());
      // Root added it: take it out again so the next cell starts from the same cluster.
      c.m().root().cluster().memberRemove(MemberRemoveRequest.newBuilder().setID(r.getMember().getID()).build());
      return OK;
    }, ADMIN));
    rows.add(new Row("UserList", c -> ok(c.auth().userList(AuthUserListRequest.getDefaultInstance())), ADMIN));
    rows.add(new Row("RoleList", c -> ok(c.auth().roleList(AuthRoleListRequest.getDefaultInstance())), ADMIN));
    rows.add(new Row("UserGet self", c -> ok(c.auth().userGet(AuthUserGetRequest.newBuilder()
        .setName(c.token() == null ? "exact" : selfOf(c)).build())), SELF));
    rows.add(new Row("UserGet root", c -> ok(c.auth().userGet(AuthUserGetRequest.newBuilder().setName("root")
        .build())), ADMIN));
    rows.add(new Row("RoleGet exact-role", c -> ok(c.auth().roleGet(AuthRoleGetRequest.newBuilder()
        .setRole("exact-role").build())), OWN_ROLE));
    rows.add(new Row("LeaseKeepAlive (stream) of a lease on k", c -> {
      long id = leaseWith(c.m(), K);
      WatchLeaseGrpcTest.Recorder<LeaseKeepAliveRequest, LeaseKeepAliveResponse> in =
          new WatchLeaseGrpcTest.Recorder<>();
      StreamObserver<LeaseKeepAliveRequest> out = LeaseGrpc.newStub(c.ch()).leaseKeepAlive(in);
      try {
        out.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        Object r = in.next();
        if (r instanceof StatusRuntimeException e) {
          throw e;
        }
        assertThat(((LeaseKeepAliveResponse) r).getTTL()).isPositive();
        return OK;
      } finally {
        out.onCompleted();
      }
    }, UNCHECKED));
    rows.add(new Row("MemberUpdate (itself, same URL)", c -> ok(c.cluster().memberUpdate(MemberUpdateRequest
        .newBuilder().setID(c.m().server.memberId()).addAllPeerURLs(c.m().server.config().initialAdvertisePeerUrls
            .stream().map(URI::toString).toList()).build())), ADMIN));
    rows.add(new Row("RoleAdd", c -> ok(c.auth().roleAdd(AuthRoleAddRequest.newBuilder()
        .setName("added-" + c.m().serial.incrementAndGet()).build())), ADMIN));
    Map<Who, String> enableWhileEnabled = new EnumMap<>(ADMIN);
    enableWhileEnabled.put(Who.NO_AUTH, NA);
    rows.add(new Row("AuthEnable (already enabled)", c -> ok(c.auth().authEnable(AuthEnableRequest.getDefaultInstance())),
        enableWhileEnabled));
    Map<Who, String> authenticate = new EnumMap<>(IDENTIFIED);
    authenticate.put(Who.NO_AUTH, e(EtcdError.AUTH_NOT_ENABLED));
    rows.add(new Row("Authenticate (exact's password)", c -> ok(c.auth().authenticate(AuthenticateRequest.newBuilder()
        .setName("exact").setPassword("pw").build())), authenticate));
    rows.add(new Row("Watch k", c -> watch(c, WatchCreateRequest.newBuilder().setKey(K)), watchAnswers(KEY)));
    rows.add(new Row("Watch from k (open ended)", c -> watch(c, WatchCreateRequest.newBuilder().setKey(K)
        .setRangeEnd(b("\0"))), watchAnswers(KEY_BEYOND_EXACT)));
    return rows;
  }

  /** Watch answers: the same cases, as cancel reasons (Go's text of the status error). */
  private static Map<Who, String> watchAnswers(Map<Who, String> p) {
    Map<Who, String> m = new EnumMap<>(Who.class);
    p.forEach((who, v) -> m.put(who, v.equals(OK) ? OK : "rpc error: code = " + GO_CODES.get(v.substring(0, v.indexOf(':')))
        + " desc = " + v.substring(v.indexOf(": ") + 2)));
    return m;
  }

  private static final Map<String, String> GO_CODES = Map.of("PERMISSION_DENIED", "PermissionDenied",
      "INVALID_ARGUMENT", "InvalidArgument", "UNAUTHENTICATED", "Unauthenticated");

  /** The user a caller's token names (the tests give tokens only to named users). */
  private static String selfOf(Caller c) {
    return c.m().selves.getOrDefault(c.token(), "exact");
  }

  private static String ok(Object response) {
    return OK;
  }

  private static String answer(Row row, Caller c) {
    try {
      return row.call().run(c);
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    } catch (Exception e) {
      throw new AssertionError(row.name(), e);
    }
  }

  private final Map<String, String> mismatches = new LinkedHashMap<>();

  private void check(Who who, Row row, Caller c) {
    String want = row.expected().get(who);
    if (want.equals(NA)) {
      return;
    }
    String got = answer(row, c);
    if (!got.equals(want)) {
      mismatches.put(row.name() + " as " + who, "got [" + got + "], etcd answers [" + want + "]");
    }
  }

  @Test
  void simpleTokens_everyRpcEveryCaller() throws Exception {
    Member m = new Member("simple", "simple");
    setUp(m);
    for (Row row : rows()) {
      if (!row.name().startsWith("MemberAdd")) {
        check(Who.NO_AUTH, row, m.as(null));
      }
    }
    enable(m);
    for (Row row : rows()) {
      check(Who.ROOT, row, m.named("root", "rootpw"));
      check(Who.EXACT, row, m.named("exact", "pw"));
      check(Who.NEIGHBOUR, row, m.named("neighbour", "pw"));
      check(Who.NO_ROLES, row, m.named("noroles", "pw"));
      check(Who.ANONYMOUS, row, m.as(null));
      Caller before = m.named("exact", "pw");
      m.root().auth().roleAdd(AuthRoleAddRequest.newBuilder().setName("bump-" + m.serial.incrementAndGet()).build());
      check(Who.SIMPLE_BEFORE_CHANGE, row, before);
    }
    // Expired: unused for longer than --auth-token-ttl (60 s) on the member's clock.
    for (Row row : rows()) {
      Caller stale = m.named("exact", "pw");
      m.cluster.clock().advance(Duration.ofSeconds(62));
      check(Who.EXPIRED, row, stale);
    }
    assertThat(mismatches).isEmpty();
  }

  @Test
  void jwtTokens_carryTheirRevision_andExpire() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    Path priv = dir.resolve("jwt.key");
    Path pub = dir.resolve("jwt.pub");
    try (JcaPEMWriter w = new JcaPEMWriter(new FileWriter(priv.toFile()))) {
      w.writeObject(kp.getPrivate());
    }
    try (JcaPEMWriter w = new JcaPEMWriter(new FileWriter(pub.toFile()))) {
      w.writeObject(kp.getPublic());
    }
    Member m = new Member("jwt", "jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=RS256,ttl=30s");
    setUp(m);
    enable(m);
    for (Row row : rows()) {
      check(Who.ROOT, row, m.named("root", "rootpw"));
      check(Who.EXACT, row, m.named("exact", "pw"));
      Caller before = m.named("exact", "pw");
      m.root().auth().roleAdd(AuthRoleAddRequest.newBuilder().setName("bump-" + m.serial.incrementAndGet()).build());
      check(Who.JWT_BEFORE_CHANGE, row, before);
      Caller stale = m.named("exact", "pw");
      m.cluster.clock().advance(Duration.ofSeconds(32));
      check(Who.EXPIRED, row, stale);
    }
    assertThat(mismatches).isEmpty();
  }
}
