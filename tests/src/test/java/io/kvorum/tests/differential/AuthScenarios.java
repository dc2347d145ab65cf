package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.deliberate;
import static io.kvorum.tests.differential.Scenario.single;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.proto.etcdserverpb.AuthDisableRequest;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleListRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleRevokePermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordRequest;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserListRequest;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateResponse;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.tests.MemberProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Auth service, and the data calls with auth on: allowed, denied, anonymous, with a bad or an
 * outdated token. Auth is a member-wide state, so every scenario ends as it began: auth disabled,
 * its users and roles deleted (root included), whatever happened in between.
 */
final class AuthScenarios {
  private AuthScenarios() {}

  // Passwords distinctive enough to be found in a log if one ever leaked there.
  static final String ROOT_PW = "root-Secret-4f7qXw";
  static final String USER_PW = "user-Secret-8k2zLm";
  static final String USER_PW2 = "user-Secret-2-9h4rTn";
  static final String ALICE_PW = "alice-Secret-3p6vBq";
  static final String ALICE_PW2 = "alice-Secret-2-7d1sKe";
  private static final List<String> SECRETS = List.of(ROOT_PW, USER_PW, USER_PW2, ALICE_PW, ALICE_PW2);
  /** Tokens Kvorum handed out in this run (never to be logged). */
  private static final Set<String> TOKENS = ConcurrentHashMap.newKeySet();

  /**
   * On Kvorum: no password of these scenarios and no token it handed out appears in any member's
   * log (the log-scan check; etcd 3.4 logs tokens at debug level and in warnings).
   */
  static void assertNothingSecretLogged(Recorder c) throws IOException {
    if (!c.isKvorum()) {
      return;
    }
    for (MemberProcess m : c.side.members) {
      String log = Files.readString(m.logFile(), StandardCharsets.UTF_8);
      for (String secret : SECRETS) {
        assertThat(log).as("member %s's log", m.name).doesNotContain(secret);
      }
      for (String token : TOKENS) {
        assertThat(log).as("member %s's log", m.name).doesNotContain(token);
      }
    }
  }

  static void userAdd(Recorder c, String name, String password) {
    c.call(AuthGrpc.getUserAddMethod(), AuthUserAddRequest.newBuilder().setName(name).setPassword(password).build());
  }

  static void roleAdd(Recorder c, String name) {
    c.call(AuthGrpc.getRoleAddMethod(), AuthRoleAddRequest.newBuilder().setName(name).build());
  }

  static void grantRole(Recorder c, String user, String role) {
    c.call(AuthGrpc.getUserGrantRoleMethod(), AuthUserGrantRoleRequest.newBuilder().setUser(user).setRole(role).build());
  }

  static void grant(Recorder c, String role, Permission.Type type, ByteString key, ByteString end) {
    c.call(AuthGrpc.getRoleGrantPermissionMethod(), AuthRoleGrantPermissionRequest.newBuilder().setName(role)
        .setPerm(Permission.newBuilder().setPermType(type).setKey(key).setRangeEnd(end)).build());
  }

  /** A token of {@code user}, or null (the failure is recorded). */
  static String token(Recorder c, String user, String password) {
    AuthenticateResponse r = c.call(AuthGrpc.getAuthenticateMethod(),
        AuthenticateRequest.newBuilder().setName(user).setPassword(password).build());
    if (r == null) {
      return null;
    }
    if (c.isKvorum() && !r.getToken().isEmpty()) {
      TOKENS.add(r.getToken());
    }
    return r.getToken();
  }

  static void setUpRoot(Recorder c) {
    userAdd(c, "root", ROOT_PW);
    roleAdd(c, "root");
    grantRole(c, "root", "root");
  }

  /** Disables auth as root and deletes the scenario's users and roles (and root). */
  static void tearDown(Recorder c, List<String> users, List<String> roles) {
    c.as(null);
    String root = token(c, "root", ROOT_PW);
    c.as(root);
    c.call(AuthGrpc.getAuthDisableMethod(), AuthDisableRequest.getDefaultInstance());
    c.as(null);
    for (String u : users) {
      c.call(AuthGrpc.getUserDeleteMethod(), AuthUserDeleteRequest.newBuilder().setName(u).build());
    }
    for (String r : roles) {
      c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole(r).build());
    }
    c.call(AuthGrpc.getUserDeleteMethod(), AuthUserDeleteRequest.newBuilder().setName("root").build());
    c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole("root").build());
    try {
      assertNothingSecretLogged(c);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Root, and {@code user} holding {@code role} with one permission; then auth enabled and {@code user} logged in. */
  static void setUpUserAndEnable(Recorder c, String user, String role, Permission.Type type, ByteString key,
      ByteString end) {
    setUpRoot(c);
    userAdd(c, user, USER_PW);
    roleAdd(c, role);
    grant(c, role, type, key, end);
    grantRole(c, user, role);
    c.call(AuthGrpc.getAuthEnableMethod(), AuthEnableRequest.getDefaultInstance());
    c.as(token(c, user, USER_PW));
  }

  private static ByteString b(String s) {
    return Recorder.bytes(s);
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("auth admin while disabled: users, roles, permissions and their errors", c -> {
      String p = c.prefix().toStringUtf8();
      String alice = p + "alice";
      String role = p + "r";
      try {
        userAdd(c, alice, ALICE_PW);
        userAdd(c, alice, ALICE_PW);
        userAdd(c, "", ALICE_PW);
        c.call(AuthGrpc.getUserAddMethod(), AuthUserAddRequest.newBuilder().setName(p + "nopw")
            .setOptions(UserAddOptions.newBuilder().setNoPassword(true)).build());
        c.call(AuthGrpc.getUserGetMethod(), AuthUserGetRequest.newBuilder().setName(alice).build());
        c.call(AuthGrpc.getUserGetMethod(), AuthUserGetRequest.newBuilder().setName(p + "nobody").build());
        c.call(AuthGrpc.getUserListMethod(), AuthUserListRequest.getDefaultInstance());
        roleAdd(c, role);
        roleAdd(c, role);
        roleAdd(c, "");
        grant(c, role, Permission.Type.READ, c.key("k"), ByteString.EMPTY);
        grant(c, role, Permission.Type.WRITE, c.key("a/"), c.key("a0"));
        grant(c, role, Permission.Type.READWRITE, c.key("z"), b("\0"));
        grant(c, role, Permission.Type.READWRITE, c.key("k"), ByteString.EMPTY);
        grant(c, p + "norole", Permission.Type.READ, c.key("k"), ByteString.EMPTY);
        c.call(AuthGrpc.getRoleGetMethod(), AuthRoleGetRequest.newBuilder().setRole(role).build());
        c.call(AuthGrpc.getRoleGetMethod(), AuthRoleGetRequest.newBuilder().setRole(p + "norole").build());
        c.call(AuthGrpc.getRoleListMethod(), AuthRoleListRequest.getDefaultInstance());
        grantRole(c, alice, role);
        grantRole(c, alice, role);
        grantRole(c, alice, p + "norole");
        grantRole(c, p + "nobody", role);
        grantRole(c, alice, "root");
        c.call(AuthGrpc.getUserGetMethod(), AuthUserGetRequest.newBuilder().setName(alice).build());
        c.call(AuthGrpc.getUserRevokeRoleMethod(), AuthUserRevokeRoleRequest.newBuilder().setName(alice)
            .setRole("root").build());
        c.call(AuthGrpc.getUserRevokeRoleMethod(), AuthUserRevokeRoleRequest.newBuilder().setName(alice)
            .setRole(role).build());
        c.call(AuthGrpc.getUserRevokeRoleMethod(), AuthUserRevokeRoleRequest.newBuilder().setName(alice)
            .setRole(role).build());
        c.call(AuthGrpc.getRoleRevokePermissionMethod(), AuthRoleRevokePermissionRequest.newBuilder().setRole(role)
            .setKey(c.key("k")).build());
        c.call(AuthGrpc.getRoleRevokePermissionMethod(), AuthRoleRevokePermissionRequest.newBuilder().setRole(role)
            .setKey(c.key("k")).build());
        c.call(AuthGrpc.getRoleRevokePermissionMethod(), AuthRoleRevokePermissionRequest.newBuilder()
            .setRole(p + "norole").setKey(c.key("k")).build());
        c.call(AuthGrpc.getRoleGetMethod(), AuthRoleGetRequest.newBuilder().setRole(role).build());
        c.call(AuthGrpc.getUserChangePasswordMethod(), AuthUserChangePasswordRequest.newBuilder().setName(alice)
            .setPassword(ALICE_PW2).build());
        c.call(AuthGrpc.getUserChangePasswordMethod(), AuthUserChangePasswordRequest.newBuilder()
            .setName(p + "nobody").setPassword(ALICE_PW2).build());
        token(c, alice, ALICE_PW2);
        c.call(AuthGrpc.getAuthDisableMethod(), AuthDisableRequest.getDefaultInstance());
        c.call(AuthGrpc.getAuthEnableMethod(), AuthEnableRequest.getDefaultInstance());
        userAdd(c, "root", ROOT_PW);
        c.call(AuthGrpc.getAuthEnableMethod(), AuthEnableRequest.getDefaultInstance());
        c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole(role).build());
        c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole(role).build());
        c.call(AuthGrpc.getUserDeleteMethod(), AuthUserDeleteRequest.newBuilder().setName(p + "nobody").build());
      } finally {
        c.as(null);
        for (String u : List.of(alice, p + "nopw", "root")) {
          c.call(AuthGrpc.getUserDeleteMethod(), AuthUserDeleteRequest.newBuilder().setName(u).build());
        }
        c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole(role).build());
      }
      assertNothingSecretLogged(c);
    }));
    s.add(single("auth enabled: data calls allowed and denied, tokens good, bad and outdated", c -> {
      String p = c.prefix().toStringUtf8();
      String user = p + "u";
      String role = p + "r";
      String nopw = p + "nopw";
      try {
        setUpRoot(c);
        userAdd(c, user, USER_PW);
        roleAdd(c, role);
        grant(c, role, Permission.Type.READWRITE, c.key("in/"), c.key("in0"));
        grantRole(c, user, role);
        c.call(AuthGrpc.getUserAddMethod(), AuthUserAddRequest.newBuilder().setName(nopw)
            .setOptions(UserAddOptions.newBuilder().setNoPassword(true)).build());
        c.call(AuthGrpc.getAuthEnableMethod(), AuthEnableRequest.getDefaultInstance());

        // No credentials.
        c.put("in/a", "v");
        c.get("in/a");
        c.call(AuthGrpc.getUserListMethod(), AuthUserListRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
        // Failed authentications.
        token(c, user, "wrong");
        token(c, p + "nobody", USER_PW);
        token(c, nopw, "");
        token(c, nopw, "x");

        String t = token(c, user, USER_PW);
        c.as(t);
        c.put("in/a", "v");
        c.get("in/a");
        c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("in/")).setRangeEnd(c.key("in0"))
            .build());
        c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("in/")).setRangeEnd(c.key("in1"))
            .build());
        c.put("out", "v");
        c.get("out");
        c.call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("in/a")).setValue(b("w")).setPrevKv(true)
            .build());
        c.call(KVGrpc.getDeleteRangeMethod(), DeleteRangeRequest.newBuilder().setKey(c.key("in/a")).setPrevKv(true)
            .build());
        c.call(KVGrpc.getDeleteRangeMethod(), DeleteRangeRequest.newBuilder().setKey(c.key("out")).build());
        c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder()
            .addCompare(Compare.newBuilder().setKey(c.key("in/a")).setTarget(Compare.CompareTarget.VERSION)
                .setResult(Compare.CompareResult.EQUAL).setVersion(0))
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(c.key("in/b"))
                .setValue(b("t"))))
            .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(c.key("in/a"))))
            .build());
        c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder()
            .addCompare(Compare.newBuilder().setKey(c.key("out")).setTarget(Compare.CompareTarget.VERSION)
                .setResult(Compare.CompareResult.EQUAL).setVersion(0))
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(c.key("in/b"))
                .setValue(b("t"))))
            .build());
        c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder()
            .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
                .setKey(c.key("out")))).build());
        var lease = c.call(LeaseGrpc.getLeaseGrantMethod(), LeaseGrantRequest.newBuilder().setID(0x7a01).setTTL(60)
            .build());
        c.call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("in/leased")).setValue(b("l"))
            .setLease(0x7a01).build());
        if (lease != null) {
          c.call(LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(0x7a01).build());
        }
        // What only root may do, and what a user may see of itself.
        c.call(AuthGrpc.getUserGetMethod(), AuthUserGetRequest.newBuilder().setName(user).build());
        c.call(AuthGrpc.getUserGetMethod(), AuthUserGetRequest.newBuilder().setName("root").build());
        c.call(AuthGrpc.getRoleGetMethod(), AuthRoleGetRequest.newBuilder().setRole(role).build());
        c.call(AuthGrpc.getRoleGetMethod(), AuthRoleGetRequest.newBuilder().setRole("root").build());
        c.call(AuthGrpc.getUserListMethod(), AuthUserListRequest.getDefaultInstance());
        c.call(AuthGrpc.getRoleListMethod(), AuthRoleListRequest.getDefaultInstance());
        c.call(AuthGrpc.getAuthDisableMethod(), AuthDisableRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getHashMethod(), HashRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getDefragmentMethod(), DefragmentRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
        c.call(ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance());
        // Watches are checked when created.
        Recorder.RecordedStream<WatchRequest, WatchResponse> w = c.stream(WatchGrpc.getWatchMethod());
        w.send(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(c.key("in/"))
            .setRangeEnd(c.key("in0"))).build());
        w.await(1);
        w.send(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(c.key("out")))
            .build());
        w.await(1);
        w.cancel();

        // Tokens that name nobody.
        c.as("bogus");
        c.get("in/a");
        c.put("in/a", "v");
        c.as(t + "x");
        c.get("in/a");

        // Root: everything, but root itself stays.
        String root = token(c, "root", ROOT_PW);
        c.as(root);
        c.put("out", "v");
        c.call(AuthGrpc.getUserDeleteMethod(), AuthUserDeleteRequest.newBuilder().setName("root").build());
        c.call(AuthGrpc.getUserRevokeRoleMethod(), AuthUserRevokeRoleRequest.newBuilder().setName("root")
            .setRole("root").build());
        c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole("root").build());
        c.call(AuthGrpc.getAuthEnableMethod(), AuthEnableRequest.getDefaultInstance());
        c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.getDefaultInstance());

        // A simple token stands for the store as it is: a role change does not outdate it.
        roleAdd(c, p + "bump");
        c.as(t);
        c.put("in/c", "v");
        // Revoking the user's role takes its access at once.
        c.as(root);
        c.call(AuthGrpc.getUserRevokeRoleMethod(), AuthUserRevokeRoleRequest.newBuilder().setName(user)
            .setRole(role).build());
        c.as(t);
        c.put("in/c", "v");
        // A password change forgets the user's tokens.
        c.as(root);
        c.call(AuthGrpc.getUserChangePasswordMethod(), AuthUserChangePasswordRequest.newBuilder().setName(user)
            .setPassword(USER_PW2).build());
        c.as(t);
        c.get("in/a");
        c.as(root);
        c.call(AuthGrpc.getAuthDisableMethod(), AuthDisableRequest.getDefaultInstance());
        // Auth off: no credentials needed, and a token from before is refused, as etcd 3.4 does.
        c.as(null);
        c.put("in/d", "v");
        c.as(root);
        c.put("in/d", "v");
        c.as(null);
        c.call(AuthGrpc.getRoleDeleteMethod(), AuthRoleDeleteRequest.newBuilder().setRole(p + "bump").build());
      } finally {
        tearDown(c, List.of(user, nopw), List.of(role, p + "bump"));
      }
    }));
    s.add(deliberate("auth: a nested txn is checked like a top-level one",
        "operations inside a nested txn are checked like top-level ones", c -> {
          String p = c.prefix().toStringUtf8();
          String user = p + "u";
          String role = p + "r";
          try {
            setUpUserAndEnable(c, user, role, Permission.Type.READWRITE, c.key("in/"), c.key("in0"));
            TxnRequest nested = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestTxn(
                TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                    .setKey(c.key("out")).setValue(b("v")))))).build();
            assertThat(c.call(KVGrpc.getTxnMethod(), nested)).isNull();
            Exchange x = c.log.get(c.log.size() - 1);
            assertThat(x.status().getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
            assertThat(x.status().getDescription()).isEqualTo("etcdserver: permission denied");
            TxnRequest allowed = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestTxn(
                TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                    .setKey(c.key("in/x")).setValue(b("v")))))).build();
            assertThat(c.call(KVGrpc.getTxnMethod(), allowed)).isNotNull();
          } finally {
            tearDown(c, List.of(user), List.of(role));
          }
        }));
    s.add(deliberate("auth: a watch on an open-ended range needs read on all of it",
        "a watch on an open-ended range (`--from-key`, range end `\"\\0\"`) needs read permission on the whole range",
        c -> {
          String p = c.prefix().toStringUtf8();
          String user = p + "u";
          String role = p + "r";
          try {
            setUpUserAndEnable(c, user, role, Permission.Type.READ, c.key("k"), ByteString.EMPTY);
            Recorder.RecordedStream<WatchRequest, WatchResponse> w = c.stream(WatchGrpc.getWatchMethod());
            w.send(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(c.key("k"))
                .setRangeEnd(b("\0"))).build());
            List<WatchResponse> got = w.await(1);
            w.cancel();
            assertThat(got).hasSize(1);
            assertThat(got.get(0).getCanceled()).isTrue();
            assertThat(got.get(0).getCancelReason())
                .isEqualTo("rpc error: code = PermissionDenied desc = etcdserver: permission denied");
          } finally {
            tearDown(c, List.of(user), List.of(role));
          }
        }));
    return s;
  }
}
