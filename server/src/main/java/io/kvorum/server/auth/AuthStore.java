package io.kvorum.server.auth;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.Role;
import io.kvorum.proto.authpb.User;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's auth store: users, roles, their key permissions, whether auth is enabled, and the
 * auth revision that every change moves on.
 *
 * <p><b>State.</b> The backend's {@code auth}, {@code authUsers} and {@code authRoles} buckets
 * (see {@link Schema}) hold it; memory holds one immutable {@link State} — the users, the roles and
 * each user's merged read and write intervals — replaced as a whole after each change. Changes
 * run on the apply thread only, each in the backend batch of its entry's consistent index, so
 * every member holds the same state at the same index; checks read the current state from any
 * thread without a lock.
 *
 * <p><b>Checks</b> give etcd's answers in etcd's order: with auth disabled everything passes; a
 * request without a user (auth revision 0) gets {@code user name is empty}; a revision older than
 * the store's gets {@code revision of auth store is old}; an unknown user {@code permission
 * denied} (admin checks: {@code user name not found}); the {@code root} role passes everything.
 *
 * <p>Nothing here logs a password, a hash or a token.
 */
public final class AuthStore {
  private static final Logger LOG = LoggerFactory.getLogger(AuthStore.class);
  public static final String ROOT_USER = "root";
  public static final String ROOT_ROLE = "root";
  private static final byte[] ENABLED = {1};
  private static final byte[] DISABLED = {0};

  /**
   * Everything the store holds, immutable; {@code recordBytes} is what the users' and roles'
   * records take in the backend (names as keys plus the marshalled records).
   */
  private record State(boolean enabled, long revision, Map<String, User> users, Map<String, Role> roles,
      Map<String, UserPermissions> permissions, long recordBytes) {}

  /** A user's merged permissions. */
  private record UserPermissions(KeyIntervals read, KeyIntervals write) {}

  private final Backend backend;
  private final TokenProvider tokens;
  private volatile State state;

  /** The store over {@code backend}'s auth buckets, as they are now. */
  public AuthStore(Backend backend, TokenProvider tokens) {
    this.backend = backend;
    this.tokens = tokens;
    reload();
  }

  /** Reads the state again from the backend (at start, and after a snapshot replaced the backend). */
  public void reload() {
    boolean enabled;
    long revision;
    Map<String, User> users = new TreeMap<>();
    Map<String, Role> roles = new TreeMap<>();
    try (ReadView v = backend.snapshotView()) {
      byte[] flag = v.get(Bucket.AUTH, Schema.authEnabledKey());
      enabled = flag != null && flag.length == 1 && flag[0] == 1;
      byte[] rev = v.get(Bucket.AUTH, Schema.authRevisionKey());
      revision = rev == null ? 1 : Schema.readLong(rev, "auth revision");
      v.scan(Bucket.AUTH_USERS, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        User u = parseUser(val);
        users.put(u.getName().toStringUtf8(), u);
        return true;
      });
      v.scan(Bucket.AUTH_ROLES, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        Role r = parseRole(val);
        roles.put(r.getName().toStringUtf8(), r);
        return true;
      });
    }
    State s = state(enabled, revision, users, roles);
    boolean was = state != null && state.enabled();
    this.state = s;
    if (s.enabled() && !was) {
      tokens.enable();
    } else if (!s.enabled() && was) {
      tokens.disable();
    }
  }

  private static User parseUser(byte[] v) {
    try {
      return User.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("auth: corrupt user record in the backend", e);
    }
  }

  private static Role parseRole(byte[] v) {
    try {
      return Role.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("auth: corrupt role record in the backend", e);
    }
  }

  private static State state(boolean enabled, long revision, Map<String, User> users, Map<String, Role> roles) {
    Map<String, UserPermissions> perms = new TreeMap<>();
    for (User u : users.values()) {
      KeyIntervals.Builder read = new KeyIntervals.Builder();
      KeyIntervals.Builder write = new KeyIntervals.Builder();
      for (String roleName : u.getRolesList()) {
        Role r = roles.get(roleName);
        if (r == null) {
          continue;
        }
        for (Permission p : r.getKeyPermissionList()) {
          byte[] key = p.getKey().toByteArray();
          byte[] end = p.getRangeEnd().toByteArray();
          switch (p.getPermType()) {
            case READ -> read.add(key, end);
            case WRITE -> write.add(key, end);
            case READWRITE -> {
              read.add(key, end);
              write.add(key, end);
            }
            default -> { }
          }
        }
      }
      perms.put(u.getName().toStringUtf8(), new UserPermissions(read.build(), write.build()));
    }
    long bytes = 0;
    for (User u : users.values()) {
      bytes += u.getName().size() + u.getSerializedSize();
    }
    for (Role r : roles.values()) {
      bytes += r.getName().size() + r.getSerializedSize();
    }
    return new State(enabled, revision, Collections.unmodifiableMap(users), Collections.unmodifiableMap(roles),
        Collections.unmodifiableMap(perms), bytes);
  }

  public TokenProvider tokens() {
    return tokens;
  }

  public boolean isEnabled() {
    return state.enabled();
  }

  /** Bytes the users' and roles' records take in the backend (part of the member's logical size). */
  public long recordBytes() {
    return state.recordBytes();
  }

  /** The auth revision: moves on with every change of users, roles or permissions, and with disabling. */
  public long revision() {
    return state.revision();
  }

  // ---------------------------------------------------------------- checks (any thread)

  /** etcd's {@code IsRangePermitted}: read on {@code [key, rangeEnd)} (an empty end: the key alone). */
  public void checkRange(String user, long revision, ByteString key, ByteString rangeEnd) {
    checkOp(user, revision, key, rangeEnd, false);
  }

  /** etcd's {@code IsPutPermitted}: write on {@code key}. */
  public void checkPut(String user, long revision, ByteString key) {
    checkOp(user, revision, key, ByteString.EMPTY, true);
  }

  /** etcd's {@code IsDeleteRangePermitted}: write on {@code [key, rangeEnd)}. */
  public void checkDeleteRange(String user, long revision, ByteString key, ByteString rangeEnd) {
    checkOp(user, revision, key, rangeEnd, true);
  }

  /** The keys are copied out of their {@code ByteString}s only when a user's intervals must be searched. */
  private void checkOp(String user, long revision, ByteString key, ByteString rangeEnd, boolean write) {
    State s = state;
    if (!s.enabled()) {
      return;
    }
    if (revision == 0) {
      throw EtcdError.USER_EMPTY.exception();
    }
    if (revision < s.revision()) {
      throw EtcdError.AUTH_OLD_REVISION.exception();
    }
    User u = s.users().get(user);
    if (u == null) {
      throw EtcdError.PERMISSION_DENIED.exception();
    }
    if (hasRootRole(u)) {
      return;
    }
    UserPermissions p = s.permissions().get(user);
    KeyIntervals iv = p == null ? KeyIntervals.NONE : write ? p.write() : p.read();
    if (!iv.covers(key.toByteArray(), rangeEnd.toByteArray())) {
      throw EtcdError.PERMISSION_DENIED.exception();
    }
  }

  /** etcd's {@code IsAdminPermitted}: the user holds the root role (no revision check, as in etcd). */
  public void checkAdmin(String user) {
    State s = state;
    if (!s.enabled()) {
      return;
    }
    if (user == null || user.isEmpty()) {
      throw EtcdError.USER_EMPTY.exception();
    }
    User u = s.users().get(user);
    if (u == null) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    if (!hasRootRole(u)) {
      throw EtcdError.PERMISSION_DENIED.exception();
    }
  }

  /** Whether {@code user} exists and holds {@code role}. */
  public boolean hasRole(String user, String role) {
    User u = state.users().get(user);
    return u != null && u.getRolesList().contains(role);
  }

  private static boolean hasRootRole(User u) {
    return Collections.binarySearch(u.getRolesList(), ROOT_ROLE) >= 0;
  }

  /**
   * etcd's {@code CheckPassword}, on the member the client asked: the store's revision when the
   * password matched. Costs a bcrypt comparison; keep it off event loops.
   */
  public long checkPassword(String user, String password) {
    State s = state;
    if (!s.enabled()) {
      throw EtcdError.AUTH_NOT_ENABLED.exception();
    }
    User u = s.users().get(user);
    if (u == null) {
      throw EtcdError.AUTH_FAILED.exception();
    }
    if (u.getOptions().getNoPassword()) {
      throw EtcdError.AUTH_NO_PASSWORD_USER.exception();
    }
    if (!Passwords.matches(u.getPassword().toByteArray(), password)) {
      LOG.info("authentication failed: invalid password for user {}", user);
      throw EtcdError.AUTH_FAILED.exception();
    }
    return s.revision();
  }

  // ---------------------------------------------------------------- reads

  /** The roles of {@code user}. */
  public List<String> userGet(String user) {
    User u = state.users().get(user);
    if (u == null) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    return u.getRolesList();
  }

  /** Every user's name, sorted. */
  public List<String> userList() {
    return new ArrayList<>(state.users().keySet());
  }

  /** The permissions of {@code role}. */
  public List<Permission> roleGet(String role) {
    Role r = state.roles().get(role);
    if (r == null) {
      throw EtcdError.ROLE_NOT_FOUND.exception();
    }
    return r.getKeyPermissionList();
  }

  /** Every role's name, sorted. */
  public List<String> roleList() {
    return new ArrayList<>(state.roles().keySet());
  }

  // ---------------------------------------------------------------- changes (apply thread)

  /** Enables auth; refused without a root user that holds the root role. Does not move the revision. */
  public void enable(ConsistentIndex ci) {
    State s = state;
    if (s.enabled()) {
      LOG.info("authentication is already enabled; ignored auth enable request");
      return;
    }
    User root = s.users().get(ROOT_USER);
    if (root == null) {
      throw EtcdError.ROOT_USER_NOT_EXIST.exception();
    }
    if (!hasRootRole(root)) {
      throw EtcdError.ROOT_ROLE_NOT_EXIST.exception();
    }
    try (Batch b = backend.newBatch()) {
      b.put(Bucket.AUTH, Schema.authEnabledKey(), ENABLED);
      b.setConsistentIndex(ci);
      backend.commit(b);
    }
    state = new State(true, s.revision(), s.users(), s.roles(), s.permissions(), s.recordBytes());
    tokens.enable();
    LOG.info("enabled authentication");
  }

  /** Disables auth (a no-op when it is disabled); forgets every simple token. */
  public void disable(ConsistentIndex ci) {
    State s = state;
    if (!s.enabled()) {
      return;
    }
    long rev = s.revision() + 1;
    try (Batch b = backend.newBatch()) {
      b.put(Bucket.AUTH, Schema.authEnabledKey(), DISABLED);
      b.put(Bucket.AUTH, Schema.authRevisionKey(), Schema.longBytes(rev));
      b.setConsistentIndex(ci);
      backend.commit(b);
    }
    state = new State(false, rev, s.users(), s.roles(), s.permissions(), s.recordBytes());
    tokens.disable();
    LOG.info("disabled authentication");
  }

  /**
   * Applies an authentication: the user must exist and have a password. Registers a simple token
   * on this member; returns what {@link TokenProvider#register} returned.
   */
  public String authenticate(String user, String simpleTokenPrefix, long index) {
    State s = state;
    if (!s.enabled()) {
      throw EtcdError.AUTH_NOT_ENABLED.exception();
    }
    User u = s.users().get(user);
    if (u == null || u.getOptions().getNoPassword()) {
      throw EtcdError.AUTH_FAILED.exception();
    }
    return tokens.register(user, simpleTokenPrefix, index);
  }

  /** Adds a user with an already hashed password (empty with {@code noPassword}). */
  public void userAdd(ConsistentIndex ci, String name, ByteString hashedPassword, UserAddOptions options) {
    if (name.isEmpty()) {
      throw EtcdError.USER_EMPTY.exception();
    }
    State s = state;
    if (s.users().containsKey(name)) {
      throw EtcdError.USER_ALREADY_EXIST.exception();
    }
    User u = User.newBuilder().setName(utf8(name)).setPassword(hashedPassword).setOptions(options).build();
    Map<String, User> users = new TreeMap<>(s.users());
    users.put(name, u);
    commit(ci, s, users, s.roles(), List.of(u), List.of(), List.of(), List.of());
    LOG.info("added a user {}", name);
  }

  /** Deletes a user; the root user only while auth is disabled. */
  public void userDelete(ConsistentIndex ci, String name) {
    State s = state;
    if (s.enabled() && name.equals(ROOT_USER)) {
      LOG.warn("cannot delete 'root' user while authentication is enabled");
      throw EtcdError.INVALID_AUTH_MGMT.exception();
    }
    if (!s.users().containsKey(name)) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    Map<String, User> users = new TreeMap<>(s.users());
    users.remove(name);
    commit(ci, s, users, s.roles(), List.of(), List.of(name), List.of(), List.of());
    tokens.invalidateUser(name);
    LOG.info("deleted a user {}", name);
  }

  /** Replaces a user's password hash; its simple tokens are forgotten. */
  public void userChangePassword(ConsistentIndex ci, String name, ByteString hashedPassword) {
    State s = state;
    User old = s.users().get(name);
    if (old == null) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    User u = old.toBuilder().setPassword(hashedPassword).build();
    Map<String, User> users = new TreeMap<>(s.users());
    users.put(name, u);
    commit(ci, s, users, s.roles(), List.of(u), List.of(), List.of(), List.of());
    tokens.invalidateUser(name);
    LOG.info("changed the password of user {}", name);
  }

  /** Grants a role (which must exist, unless it is {@code root}); granting it again changes nothing. */
  public void userGrantRole(ConsistentIndex ci, String name, String role) {
    State s = state;
    User old = s.users().get(name);
    if (old == null) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    if (!role.equals(ROOT_ROLE) && !s.roles().containsKey(role)) {
      throw EtcdError.ROLE_NOT_FOUND.exception();
    }
    List<String> roles = new ArrayList<>(old.getRolesList());
    if (roles.contains(role)) {
      LOG.warn("ignored grant role request to a user: user {} already has role {}", name, role);
      return;
    }
    roles.add(role);
    Collections.sort(roles);
    User u = old.toBuilder().clearRoles().addAllRoles(roles).build();
    Map<String, User> users = new TreeMap<>(s.users());
    users.put(name, u);
    commit(ci, s, users, s.roles(), List.of(u), List.of(), List.of(), List.of());
    LOG.info("granted role {} to user {}", role, name);
  }

  /** Revokes a granted role; root's root role only while auth is disabled. */
  public void userRevokeRole(ConsistentIndex ci, String name, String role) {
    State s = state;
    if (s.enabled() && name.equals(ROOT_USER) && role.equals(ROOT_ROLE)) {
      LOG.warn("'root' user cannot revoke 'root' role while authentication is enabled");
      throw EtcdError.INVALID_AUTH_MGMT.exception();
    }
    User old = s.users().get(name);
    if (old == null) {
      throw EtcdError.USER_NOT_FOUND.exception();
    }
    List<String> roles = new ArrayList<>(old.getRolesList());
    if (!roles.removeIf(role::equals)) {
      throw EtcdError.ROLE_NOT_GRANTED.exception();
    }
    User u = old.toBuilder().clearRoles().addAllRoles(roles).build();
    Map<String, User> users = new TreeMap<>(s.users());
    users.put(name, u);
    commit(ci, s, users, s.roles(), List.of(u), List.of(), List.of(), List.of());
    LOG.info("revoked role {} from user {}", role, name);
  }

  /** Adds a role without permissions. */
  public void roleAdd(ConsistentIndex ci, String name) {
    if (name.isEmpty()) {
      throw EtcdError.ROLE_EMPTY.exception();
    }
    State s = state;
    if (s.roles().containsKey(name)) {
      throw EtcdError.ROLE_ALREADY_EXIST.exception();
    }
    Role r = Role.newBuilder().setName(utf8(name)).build();
    Map<String, Role> roles = new TreeMap<>(s.roles());
    roles.put(name, r);
    commit(ci, s, s.users(), roles, List.of(), List.of(), List.of(r), List.of());
    LOG.info("created a role {}", name);
  }

  /** Deletes a role and takes it from every user that holds it; {@code root} only while auth is disabled. */
  public void roleDelete(ConsistentIndex ci, String name) {
    State s = state;
    if (s.enabled() && name.equals(ROOT_ROLE)) {
      LOG.warn("cannot delete 'root' role while authentication is enabled");
      throw EtcdError.INVALID_AUTH_MGMT.exception();
    }
    if (!s.roles().containsKey(name)) {
      throw EtcdError.ROLE_NOT_FOUND.exception();
    }
    Map<String, Role> roles = new TreeMap<>(s.roles());
    roles.remove(name);
    Map<String, User> users = new TreeMap<>(s.users());
    List<User> changed = new ArrayList<>();
    for (User u : s.users().values()) {
      if (u.getRolesList().contains(name)) {
        List<String> left = new ArrayList<>(u.getRolesList());
        left.removeIf(name::equals);
        User nu = u.toBuilder().clearRoles().addAllRoles(left).build();
        users.put(nu.getName().toStringUtf8(), nu);
        changed.add(nu);
      }
    }
    commit(ci, s, users, roles, changed, List.of(), List.of(), List.of(name));
    LOG.info("deleted a role {}", name);
  }

  /**
   * Grants a permission: one on the same key and range end as an existing one replaces its type
   * (etcd compares against the first permission whose key is not below the new one's); otherwise
   * it is added and the role's permissions are sorted by key.
   */
  public void roleGrantPermission(ConsistentIndex ci, String name, Permission perm) {
    State s = state;
    Role old = s.roles().get(name);
    if (old == null) {
      throw EtcdError.ROLE_NOT_FOUND.exception();
    }
    List<Permission> perms = new ArrayList<>(old.getKeyPermissionList());
    int idx = 0;
    while (idx < perms.size() && compareKeys(perms.get(idx).getKey(), perm.getKey()) < 0) {
      idx++;
    }
    Permission p = Permission.newBuilder().setKey(perm.getKey()).setRangeEnd(perm.getRangeEnd())
        .setPermType(perm.getPermType()).build();
    if (idx < perms.size() && perms.get(idx).getKey().equals(perm.getKey())
        && perms.get(idx).getRangeEnd().equals(perm.getRangeEnd())) {
      perms.set(idx, perms.get(idx).toBuilder().setPermType(perm.getPermType()).build());
    } else {
      perms.add(p);
      perms.sort(Comparator.comparing(Permission::getKey, AuthStore::compareKeys));
    }
    Role r = old.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build();
    Map<String, Role> roles = new TreeMap<>(s.roles());
    roles.put(name, r);
    commit(ci, s, s.users(), roles, List.of(), List.of(), List.of(r), List.of());
    LOG.info("granted/updated a permission of role {}: {}", name, perm.getPermType());
  }

  /** Revokes every permission of the role on exactly {@code key} and {@code rangeEnd}. */
  public void roleRevokePermission(ConsistentIndex ci, String name, ByteString key, ByteString rangeEnd) {
    State s = state;
    Role old = s.roles().get(name);
    if (old == null) {
      throw EtcdError.ROLE_NOT_FOUND.exception();
    }
    List<Permission> perms = new ArrayList<>(old.getKeyPermissionList());
    if (!perms.removeIf(p -> p.getKey().equals(key) && p.getRangeEnd().equals(rangeEnd))) {
      throw EtcdError.PERMISSION_NOT_GRANTED.exception();
    }
    Role r = old.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build();
    Map<String, Role> roles = new TreeMap<>(s.roles());
    roles.put(name, r);
    commit(ci, s, s.users(), roles, List.of(), List.of(), List.of(r), List.of());
    LOG.info("revoked a permission of role {}", name);
  }

  private static int compareKeys(ByteString a, ByteString b) {
    return ByteString.unsignedLexicographicalComparator().compare(a, b);
  }

  /** Writes the changed records and the next revision in the entry's batch, then publishes the new state. */
  private void commit(ConsistentIndex ci, State s, Map<String, User> users, Map<String, Role> roles,
      List<User> putUsers, List<String> deletedUsers, List<Role> putRoles, List<String> deletedRoles) {
    long rev = s.revision() + 1;
    try (Batch b = backend.newBatch()) {
      for (User u : putUsers) {
        b.put(Bucket.AUTH_USERS, u.getName().toByteArray(), u.toByteArray());
      }
      for (String u : deletedUsers) {
        b.delete(Bucket.AUTH_USERS, u.getBytes(StandardCharsets.UTF_8));
      }
      for (Role r : putRoles) {
        b.put(Bucket.AUTH_ROLES, r.getName().toByteArray(), r.toByteArray());
      }
      for (String r : deletedRoles) {
        b.delete(Bucket.AUTH_ROLES, r.getBytes(StandardCharsets.UTF_8));
      }
      b.put(Bucket.AUTH, Schema.authRevisionKey(), Schema.longBytes(rev));
      b.setConsistentIndex(ci);
      backend.commit(b);
    }
    state = state(s.enabled(), rev, users, roles);
  }

  private static ByteString utf8(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
