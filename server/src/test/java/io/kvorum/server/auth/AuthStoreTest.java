package io.kvorum.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthStoreTest {
  @TempDir
  Path dir;
  private Backend backend;
  private AuthStore store;
  private SimpleTokens tokens;
  private final FakeClock clock = new FakeClock();
  private long index = 1;
  private final Passwords passwords = new Passwords(Passwords.MIN_COST);

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    tokens = new SimpleTokens(clock, Duration.ofSeconds(300));
    store = new AuthStore(backend, tokens);
  }

  @AfterEach
  void close() {
    backend.close();
  }

  private ConsistentIndex next() {
    return new ConsistentIndex(++index, 1);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static void assertEtcd(ThrowingCallable call, EtcdError e) {
    assertThatThrownBy(call).isInstanceOfSatisfying(EtcdException.class, x -> assertThat(x.error()).isEqualTo(e));
  }

  private void addUser(String name, String password) {
    store.userAdd(next(), name, ByteString.copyFrom(passwords.hash(password)), UserAddOptions.getDefaultInstance());
  }

  private void setUpRootAndTestUser() {
    addUser("root", "rootpw");
    store.roleAdd(next(), "root");
    store.userGrantRole(next(), "root", "root");
    addUser("alice", "pw");
    store.roleAdd(next(), "reader");
    store.roleGrantPermission(next(), "reader", Permission.newBuilder().setKey(bs("foo")).setRangeEnd(bs("fop"))
        .setPermType(Permission.Type.READ).build());
    store.userGrantRole(next(), "alice", "reader");
  }

  @Test
  void disabled_everythingPasses() {
    store.checkRange("", 0, bs("x"), ByteString.EMPTY);
    store.checkPut("", 0, bs("x"));
    store.checkAdmin("");
    assertEtcd(() -> store.checkPassword("root", "x"), EtcdError.AUTH_NOT_ENABLED);
  }

  @Test
  void enable_needsRootUserWithRootRole() {
    assertEtcd(() -> store.enable(next()), EtcdError.ROOT_USER_NOT_EXIST);
    addUser("root", "pw");
    assertEtcd(() -> store.enable(next()), EtcdError.ROOT_ROLE_NOT_EXIST);
    // The root role needs no role record to be granted.
    store.userGrantRole(next(), "root", "root");
    long rev = store.revision();
    store.enable(next());
    assertThat(store.isEnabled()).isTrue();
    assertThat(store.revision()).as("enabling does not move the revision").isEqualTo(rev);
  }

  @Test
  void checks_inEtcdsOrder() {
    setUpRootAndTestUser();
    store.enable(next());
    long rev = store.revision();
    assertEtcd(() -> store.checkRange("alice", 0, bs("foo"), ByteString.EMPTY), EtcdError.USER_EMPTY);
    assertEtcd(() -> store.checkRange("alice", rev - 1, bs("foo"), ByteString.EMPTY), EtcdError.AUTH_OLD_REVISION);
    assertEtcd(() -> store.checkRange("nobody", rev, bs("foo"), ByteString.EMPTY), EtcdError.PERMISSION_DENIED);
    store.checkRange("alice", rev, bs("foo"), ByteString.EMPTY);
    store.checkRange("alice", rev, bs("foo"), bs("fop"));
    assertEtcd(() -> store.checkRange("alice", rev, bs("foo"), bs("foq")), EtcdError.PERMISSION_DENIED);
    assertEtcd(() -> store.checkPut("alice", rev, bs("foo")), EtcdError.PERMISSION_DENIED);
    store.checkPut("root", rev, bs("anything"));
    store.checkAdmin("root");
    assertEtcd(() -> store.checkAdmin(""), EtcdError.USER_EMPTY);
    assertEtcd(() -> store.checkAdmin("nobody"), EtcdError.USER_NOT_FOUND);
    assertEtcd(() -> store.checkAdmin("alice"), EtcdError.PERMISSION_DENIED);
  }

  @Test
  void everyChange_movesTheRevision_andSurvivesReopen() {
    long r0 = store.revision();
    assertThat(r0).isEqualTo(1);
    setUpRootAndTestUser();
    assertThat(store.revision()).isEqualTo(r0 + 7);
    // Granting a role again changes nothing.
    store.userGrantRole(next(), "alice", "reader");
    assertThat(store.revision()).isEqualTo(r0 + 7);
    store.enable(next());
    store.disable(next());
    assertThat(store.revision()).isEqualTo(r0 + 8);
    store.enable(next());
    backend.close();
    backend = Backend.open(dir);
    AuthStore reopened = new AuthStore(backend, new SimpleTokens(clock, Duration.ZERO));
    assertThat(reopened.isEnabled()).isTrue();
    assertThat(reopened.revision()).isEqualTo(r0 + 8);
    assertThat(reopened.userList()).containsExactly("alice", "root");
    assertThat(reopened.roleGet("reader")).hasSize(1);
    assertThat(backend.consistentIndex().index()).isEqualTo(index);
  }

  @Test
  void rootIsProtected_onlyWhileEnabled() {
    setUpRootAndTestUser();
    store.enable(next());
    assertEtcd(() -> store.userDelete(next(), "root"), EtcdError.INVALID_AUTH_MGMT);
    assertEtcd(() -> store.userRevokeRole(next(), "root", "root"), EtcdError.INVALID_AUTH_MGMT);
    assertEtcd(() -> store.roleDelete(next(), "root"), EtcdError.INVALID_AUTH_MGMT);
    store.disable(next());
    store.userRevokeRole(next(), "root", "root");
    store.roleDelete(next(), "root");
    store.userDelete(next(), "root");
    assertThat(store.userList()).containsExactly("alice");
  }

  @Test
  void management_errors() {
    assertEtcd(() -> store.userAdd(next(), "", ByteString.EMPTY, UserAddOptions.getDefaultInstance()),
        EtcdError.USER_EMPTY);
    assertEtcd(() -> store.roleAdd(next(), ""), EtcdError.ROLE_EMPTY);
    addUser("u", "p");
    assertEtcd(() -> addUser("u", "p"), EtcdError.USER_ALREADY_EXIST);
    store.roleAdd(next(), "r");
    assertEtcd(() -> store.roleAdd(next(), "r"), EtcdError.ROLE_ALREADY_EXIST);
    assertEtcd(() -> store.userGrantRole(next(), "nobody", "r"), EtcdError.USER_NOT_FOUND);
    assertEtcd(() -> store.userGrantRole(next(), "u", "nothing"), EtcdError.ROLE_NOT_FOUND);
    assertEtcd(() -> store.userRevokeRole(next(), "u", "r"), EtcdError.ROLE_NOT_GRANTED);
    assertEtcd(() -> store.roleRevokePermission(next(), "r", bs("k"), ByteString.EMPTY),
        EtcdError.PERMISSION_NOT_GRANTED);
    assertEtcd(() -> store.roleGet("nothing"), EtcdError.ROLE_NOT_FOUND);
    assertEtcd(() -> store.userGet("nobody"), EtcdError.USER_NOT_FOUND);
    assertEtcd(() -> store.userDelete(next(), "nobody"), EtcdError.USER_NOT_FOUND);
    assertEtcd(() -> store.userChangePassword(next(), "nobody", ByteString.EMPTY), EtcdError.USER_NOT_FOUND);
    assertEtcd(() -> store.roleDelete(next(), "nothing"), EtcdError.ROLE_NOT_FOUND);
  }

  @Test
  void grantPermission_sameRangeUpdatesType_othersSortedByKey() {
    store.roleAdd(next(), "r");
    store.roleGrantPermission(next(), "r", Permission.newBuilder().setKey(bs("m")).setPermType(Permission.Type.READ).build());
    store.roleGrantPermission(next(), "r", Permission.newBuilder().setKey(bs("a")).setPermType(Permission.Type.WRITE).build());
    store.roleGrantPermission(next(), "r",
        Permission.newBuilder().setKey(bs("m")).setPermType(Permission.Type.READWRITE).build());
    assertThat(store.roleGet("r")).extracting(p -> p.getKey().toStringUtf8() + ":" + p.getPermType())
        .containsExactly("a:WRITE", "m:READWRITE");
    store.roleRevokePermission(next(), "r", bs("a"), ByteString.EMPTY);
    assertThat(store.roleGet("r")).hasSize(1);
  }

  @Test
  void roleDelete_takesTheRoleFromItsUsers() {
    setUpRootAndTestUser();
    store.enable(next());
    store.roleDelete(next(), "reader");
    assertThat(store.userGet("alice")).isEmpty();
    assertEtcd(() -> store.checkRange("alice", store.revision(), bs("foo"), ByteString.EMPTY), EtcdError.PERMISSION_DENIED);
  }

  @Test
  void passwords_checkedAgainstTheHash() {
    setUpRootAndTestUser();
    store.userAdd(next(), "cert-only", ByteString.EMPTY, UserAddOptions.newBuilder().setNoPassword(true).build());
    store.enable(next());
    assertThat(store.checkPassword("alice", "pw")).isEqualTo(store.revision());
    assertEtcd(() -> store.checkPassword("alice", "wrong"), EtcdError.AUTH_FAILED);
    assertEtcd(() -> store.checkPassword("nobody", "pw"), EtcdError.AUTH_FAILED);
    assertEtcd(() -> store.checkPassword("cert-only", ""), EtcdError.AUTH_NO_PASSWORD_USER);
    assertEtcd(() -> store.authenticate("cert-only", "p", 9), EtcdError.AUTH_FAILED);
    store.userChangePassword(next(), "alice", ByteString.copyFrom(passwords.hash("new")));
    assertEtcd(() -> store.checkPassword("alice", "pw"), EtcdError.AUTH_FAILED);
    assertThat(store.checkPassword("alice", "new")).isEqualTo(store.revision());
  }

  @Test
  void tokens_forgottenWithTheirUser_andWhenDisabled() {
    setUpRootAndTestUser();
    store.enable(next());
    String t1 = store.authenticate("alice", tokens.newPrefix(), 100);
    String t2 = store.authenticate("root", tokens.newPrefix(), 101);
    assertThat(tokens.info(t1, 5)).isEqualTo(new AuthInfo("alice", 5));
    store.userChangePassword(next(), "alice", ByteString.copyFrom(passwords.hash("x")));
    assertThat(tokens.info(t1, 5)).isNull();
    assertThat(tokens.info(t2, 5)).isNotNull();
    store.disable(next());
    assertThat(tokens.info(t2, 5)).isNull();
  }
}
