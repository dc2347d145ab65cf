package io.kvorum.server.errors;

/**
 * etcd's client-visible errors: the gRPC code and the exact message, which clients match on (see
 * etcd's {@code rpctypes/error.go}). Raised anywhere as {@link EtcdException}; only the API edge
 * turns them into gRPC statuses.
 */
public enum EtcdError {
  EMPTY_KEY(Code.INVALID_ARGUMENT, "etcdserver: key is not provided"),
  KEY_NOT_FOUND(Code.INVALID_ARGUMENT, "etcdserver: key not found"),
  VALUE_PROVIDED(Code.INVALID_ARGUMENT, "etcdserver: value is provided"),
  LEASE_PROVIDED(Code.INVALID_ARGUMENT, "etcdserver: lease is provided"),
  TOO_MANY_OPS(Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"),
  DUPLICATE_KEY(Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
  /**
   * Not in etcd 3.4, which panics on a sort by an unknown target: the member exits. Kvorum answers
   * what etcd 3.5 answers instead.
   */
  INVALID_SORT_OPTION(Code.INVALID_ARGUMENT, "etcdserver: invalid sort option"),
  COMPACTED(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
  FUTURE_REV(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
  NO_SPACE(Code.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),
  LEASE_NOT_FOUND(Code.NOT_FOUND, "etcdserver: requested lease not found"),
  LEASE_EXIST(Code.FAILED_PRECONDITION, "etcdserver: lease already exists"),
  LEASE_T_T_L_TOO_LARGE(Code.OUT_OF_RANGE, "etcdserver: too large lease TTL"),
  WATCH_CANCELED(Code.CANCELED, "etcdserver: watch canceled"),
  MEMBER_EXIST(Code.FAILED_PRECONDITION, "etcdserver: member ID already exist"),
  PEER_U_R_L_EXIST(Code.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"),
  MEMBER_NOT_ENOUGH_STARTED(Code.FAILED_PRECONDITION, "etcdserver: re-configuration failed due to not enough started members"),
  MEMBER_BAD_U_R_LS(Code.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"),
  MEMBER_NOT_FOUND(Code.NOT_FOUND, "etcdserver: member not found"),
  MEMBER_NOT_LEARNER(Code.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"),
  LEARNER_NOT_READY(Code.FAILED_PRECONDITION, "etcdserver: can only promote a learner member which is in sync with leader"),
  TOO_MANY_LEARNERS(Code.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"),
  REQUEST_TOO_LARGE(Code.INVALID_ARGUMENT, "etcdserver: request is too large"),
  REQUEST_TOO_MANY_REQUESTS(Code.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
  ROOT_USER_NOT_EXIST(Code.FAILED_PRECONDITION, "etcdserver: root user does not exist"),
  ROOT_ROLE_NOT_EXIST(Code.FAILED_PRECONDITION, "etcdserver: root user does not have root role"),
  USER_ALREADY_EXIST(Code.FAILED_PRECONDITION, "etcdserver: user name already exists"),
  USER_EMPTY(Code.INVALID_ARGUMENT, "etcdserver: user name is empty"),
  USER_NOT_FOUND(Code.FAILED_PRECONDITION, "etcdserver: user name not found"),
  ROLE_ALREADY_EXIST(Code.FAILED_PRECONDITION, "etcdserver: role name already exists"),
  ROLE_NOT_FOUND(Code.FAILED_PRECONDITION, "etcdserver: role name not found"),
  ROLE_EMPTY(Code.INVALID_ARGUMENT, "etcdserver: role name is empty"),
  AUTH_FAILED(Code.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password"),
  PERMISSION_DENIED(Code.PERMISSION_DENIED, "etcdserver: permission denied"),
  ROLE_NOT_GRANTED(Code.FAILED_PRECONDITION, "etcdserver: role is not granted to the user"),
  PERMISSION_NOT_GRANTED(Code.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role"),
  AUTH_NOT_ENABLED(Code.FAILED_PRECONDITION, "etcdserver: authentication is not enabled"),
  INVALID_AUTH_TOKEN(Code.UNAUTHENTICATED, "etcdserver: invalid auth token"),
  INVALID_AUTH_MGMT(Code.INVALID_ARGUMENT, "etcdserver: invalid auth management"),
  AUTH_OLD_REVISION(Code.INVALID_ARGUMENT, "etcdserver: revision of auth store is old"),
  /**
   * Not in rpctypes: etcd 3.4 sends this auth error, for a password given to a user created with
   * {@code --no-password}, as an unknown-code status with its text.
   */
  AUTH_NO_PASSWORD_USER(Code.UNKNOWN, "auth: authentication failed, password was given for no password user"),
  /** Not in rpctypes: Authenticate against a JWT provider that has only the public key (unknown code). */
  AUTH_VERIFY_ONLY(Code.UNKNOWN, "auth: token signing attempted with verify-only key"),
  /**
   * etcd 3.4's Maintenance service (Hash, HashKV, Defragment, Snapshot) sends its admin check's
   * errors as the auth store raised them, not through its error map: UNKNOWN, with the auth
   * store's own text. See {@link #unmappedAuth}.
   */
  AUTH_UNMAPPED_USER_EMPTY(Code.UNKNOWN, "auth: user name is empty"),
  AUTH_UNMAPPED_USER_NOT_FOUND(Code.UNKNOWN, "auth: user not found"),
  AUTH_UNMAPPED_PERMISSION_DENIED(Code.UNKNOWN, "auth: permission denied"),
  AUTH_UNMAPPED_INVALID_AUTH_TOKEN(Code.UNKNOWN, "auth: invalid auth token"),
  NO_LEADER(Code.UNAVAILABLE, "etcdserver: no leader"),
  NOT_LEADER(Code.FAILED_PRECONDITION, "etcdserver: not leader"),
  LEADER_CHANGED(Code.UNAVAILABLE, "etcdserver: leader changed"),
  NOT_CAPABLE(Code.UNAVAILABLE, "etcdserver: not capable"),
  STOPPED(Code.UNAVAILABLE, "etcdserver: server stopped"),
  TIMEOUT(Code.UNAVAILABLE, "etcdserver: request timed out"),
  /** raft refused the proposal (a leadership transfer under way, the leader removed, its uncommitted tail full): etcd 3.4 sends raft's error unmapped. */
  RAFT_PROPOSAL_DROPPED(Code.UNKNOWN, "raft proposal dropped"),
  /** A proposal still waiting for a leader at the request timeout: etcd 3.4 sends its context's error unmapped. */
  PROPOSAL_DEADLINE_EXCEEDED(Code.UNKNOWN, "context deadline exceeded"),
  TIMEOUT_DUE_TO_LEADER_FAIL(Code.UNAVAILABLE, "etcdserver: request timed out, possibly due to previous leader failure"),
  TIMEOUT_DUE_TO_CONNECTION_LOST(Code.UNAVAILABLE, "etcdserver: request timed out, possibly due to connection lost"),
  TIMEOUT_WAIT_APPLIED_INDEX(Code.UNAVAILABLE, "etcdserver: request timed out, waiting for the applied index took too long"),
  UNHEALTHY(Code.UNAVAILABLE, "etcdserver: unhealthy cluster"),
  CORRUPT(Code.DATA_LOSS, "etcdserver: corrupt cluster"),
  NOT_SUPPORTED_FOR_LEARNER(Code.UNAVAILABLE, "etcdserver: rpc not supported for learner"),
  BAD_LEADER_TRANSFEREE(Code.FAILED_PRECONDITION, "etcdserver: bad leader transferee"),
  /**
   * etcd's election service (clientv3/concurrency's errors, sent unmapped: UNKNOWN): a proclaim
   * by a candidate whose key is gone or was created again, and a leader asked of an election
   * with no candidate.
   */
  ELECTION_NOT_LEADER(Code.UNKNOWN, "election: not leader"),
  ELECTION_NO_LEADER(Code.UNKNOWN, "election: no leader"),
  /** etcd's election service: a Proclaim or Resign without its {@code leader} field (UNKNOWN). */
  ELECTION_MISSING_LEADER_KEY(Code.UNKNOWN, "\"leader\" field must be provided"),
  /**
   * Not etcd's: an unexpected failure inside Kvorum (a defect; the member logs the cause). etcd
   * sends its Go error's text with the same code; Kvorum never sends a Java exception's text.
   */
  INTERNAL(Code.UNKNOWN, "etcdserver: internal error"),
  /** Not in rpctypes: etcd 3.4 sends this server error as an unknown-code status with its text. */
  TIMEOUT_LEADER_TRANSFER(Code.UNKNOWN, "etcdserver: request timed out, leader transfer took too long");

  /** gRPC status codes, named as in gRPC, so this package needs no gRPC types. */
  public enum Code {
    OK, CANCELED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
    RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
    DATA_LOSS, UNAUTHENTICATED
  }

  private final Code code;
  private final String message;

  EtcdError(Code code, String message) {
    this.code = code;
    this.message = message;
  }

  public Code code() {
    return code;
  }

  public String message() {
    return message;
  }

  /** The error whose message is exactly {@code message}, or null. */
  public static EtcdError byMessage(String message) {
    for (EtcdError e : values()) {
      if (e.message.equals(message)) {
        return e;
      }
    }
    return null;
  }

  /** The auth store's own (unmapped) error for this one, as etcd 3.4's Maintenance service sends it; else this. */
  public EtcdError unmappedAuth() {
    return switch (this) {
      case USER_EMPTY -> AUTH_UNMAPPED_USER_EMPTY;
      case USER_NOT_FOUND -> AUTH_UNMAPPED_USER_NOT_FOUND;
      case PERMISSION_DENIED -> AUTH_UNMAPPED_PERMISSION_DENIED;
      case INVALID_AUTH_TOKEN -> AUTH_UNMAPPED_INVALID_AUTH_TOKEN;
      default -> this;
    };
  }

  public EtcdException exception() {
    return new EtcdException(this);
  }
}
