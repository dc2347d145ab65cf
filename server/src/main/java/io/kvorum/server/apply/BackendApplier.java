package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.AuthDisableRequest;
import io.kvorum.proto.etcdserverpb.AuthDisableResponse;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthEnableResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleAddResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleListRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleListResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleRevokePermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleRevokePermissionResponse;
import io.kvorum.proto.etcdserverpb.AuthUserAddResponse;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordResponse;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleResponse;
import io.kvorum.proto.etcdserverpb.AuthUserListRequest;
import io.kvorum.proto.etcdserverpb.AuthUserListResponse;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleResponse;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointRequest;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.AuthUserAdd;
import io.kvorum.proto.serverpb.AuthUserChangePassword;
import io.kvorum.proto.serverpb.Authenticate;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.WriteTxn;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last link (etcd's {@code applierV3backend}): changes the MVCC store, the leases, the auth
 * store and the membership, each entry's effects in one atomic batch with its consistent index, and answers
 * with etcd's response and header.
 */
final class BackendApplier implements RequestApplier {
  private static final Logger LOG = LoggerFactory.getLogger(BackendApplier.class);
  private final KvStore kv;
  private final KvApplier kvApplier;
  private final LeaseApplier leaseApplier;
  private final ApplierChain.Headers headers;
  private final ApplierChain.Publisher publisher;
  private final AuthStore auth;
  private final Alarms alarms;

  BackendApplier(KvStore kv, Lessor lessor, AuthStore auth, Alarms alarms, ApplierChain.Headers headers,
      ApplierChain.Publisher publisher) {
    this.kv = kv;
    this.auth = auth;
    this.alarms = alarms;
    this.kvApplier = new KvApplier(lessor::exists);
    this.leaseApplier = new LeaseApplier(lessor, kv);
    this.headers = headers;
    this.publisher = publisher;
  }

  private ResponseHeader current() {
    return headers.header(kv.currentRevision());
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      PutResponse resp = kvApplier.put(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      DeleteRangeResponse resp = kvApplier.deleteRange(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      TxnResponse resp = kvApplier.txn(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public Compaction compaction(ApplyContext ctx, CompactionRequest r) {
    CompletableFuture<Void> physical = kv.compact(r.getRevision(), ctx.index());
    return new Compaction(CompactionResponse.newBuilder().setHeader(current()).build(), physical);
  }

  @Override
  public LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r) {
    long ttl = leaseApplier.grant(r, ctx.index());
    return LeaseGrantResponse.newBuilder().setHeader(current()).setID(r.getID()).setTTL(ttl).build();
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r) {
    long rev = leaseApplier.revoke(List.of(r.getID()), ctx.index(), true);
    return LeaseRevokeResponse.newBuilder().setHeader(headers.header(rev)).build();
  }

  @Override
  public LeaseRevokeResponse leaseExpire(ApplyContext ctx, LeaseExpire r) {
    long rev = leaseApplier.revoke(r.getIdsList(), ctx.index(), false);
    return LeaseRevokeResponse.newBuilder().setHeader(headers.header(rev)).build();
  }

  @Override
  public LeaseCheckpointResponse leaseCheckpoint(ApplyContext ctx, LeaseCheckpointRequest r) {
    leaseApplier.checkpoint(r, ctx.index());
    return LeaseCheckpointResponse.newBuilder().setHeader(current()).build();
  }

  /**
   * etcd's {@code applierV3backend.Alarm}: the answer lists the alarms asked for, the one raised
   * (or found raised), or the one disarmed; like etcd 3.4's it has no header. The alarm link reads
   * the alarms for every later entry, so raising or disarming one takes effect with the next entry.
   */
  @Override
  public AlarmResponse alarm(ApplyContext ctx, AlarmRequest r) {
    AlarmResponse.Builder resp = AlarmResponse.newBuilder();
    AlarmMember asked = AlarmMember.newBuilder().setMemberID(r.getMemberID()).setAlarmValue(r.getAlarmValue()).build();
    int before = alarms.list(r.getAlarmValue()).size();
    switch (r.getAction()) {
      case GET -> resp.addAllAlarms(alarms.list(r.getAlarmValue()));
      case ACTIVATE -> {
        AlarmMember m = alarms.activate(ctx.index(), asked);
        resp.addAlarms(m);
        if (before == 0 && alarms.list(m.getAlarmValue()).size() == 1) {
          LOG.warn("alarm raised (alarm {}, from {})", typeName(m), Long.toHexString(m.getMemberID()));
        }
      }
      case DEACTIVATE -> {
        AlarmMember m = alarms.deactivate(ctx.index(), asked);
        if (m != null) {
          resp.addAlarms(m);
          if (before > 0 && alarms.list(r.getAlarmValue()).isEmpty()) {
            LOG.warn("alarm disarmed (alarm {}, from {})", typeName(m), Long.toHexString(m.getMemberID()));
          }
        }
      }
      // An action this version does not know: etcd 3.4 answers nothing and its member panics;
      // Kvorum answers an empty list.
      case UNRECOGNIZED -> { }
    }
    return resp.build();
  }

  private static String typeName(AlarmMember m) {
    AlarmType t = m.getAlarm();
    return t == AlarmType.UNRECOGNIZED ? String.valueOf(m.getAlarmValue()) : t.name();
  }

  @Override
  public Published publish(ApplyContext ctx, MemberAttributes r) {
    publisher.publish(ctx, r);
    return new Published(r.getMemberId());
  }

  // ---------------------------------------------------------------- auth

  @Override
  public AuthEnableResponse authEnable(ApplyContext ctx, AuthEnableRequest r) {
    auth.enable(ctx.index());
    return AuthEnableResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthDisableResponse authDisable(ApplyContext ctx, AuthDisableRequest r) {
    auth.disable(ctx.index());
    return AuthDisableResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public Authenticated authenticate(ApplyContext ctx, Authenticate r) {
    String registered = auth.authenticate(r.getName(), r.getSimpleTokenPrefix(), ctx.index().index());
    return new Authenticated(current(), r.getName(), auth.revision(), registered);
  }

  @Override
  public AuthUserAddResponse userAdd(ApplyContext ctx, AuthUserAdd r) {
    auth.userAdd(ctx.index(), r.getName(), r.getHashedPassword(), r.getOptions());
    return AuthUserAddResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthUserDeleteResponse userDelete(ApplyContext ctx, AuthUserDeleteRequest r) {
    auth.userDelete(ctx.index(), r.getName());
    return AuthUserDeleteResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthUserChangePasswordResponse userChangePassword(ApplyContext ctx, AuthUserChangePassword r) {
    auth.userChangePassword(ctx.index(), r.getName(), r.getHashedPassword());
    return AuthUserChangePasswordResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthUserGrantRoleResponse userGrantRole(ApplyContext ctx, AuthUserGrantRoleRequest r) {
    auth.userGrantRole(ctx.index(), r.getUser(), r.getRole());
    return AuthUserGrantRoleResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthUserGetResponse userGet(ApplyContext ctx, AuthUserGetRequest r) {
    return AuthUserGetResponse.newBuilder().setHeader(current()).addAllRoles(auth.userGet(r.getName())).build();
  }

  @Override
  public AuthUserRevokeRoleResponse userRevokeRole(ApplyContext ctx, AuthUserRevokeRoleRequest r) {
    auth.userRevokeRole(ctx.index(), r.getName(), r.getRole());
    return AuthUserRevokeRoleResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthRoleAddResponse roleAdd(ApplyContext ctx, AuthRoleAddRequest r) {
    auth.roleAdd(ctx.index(), r.getName());
    return AuthRoleAddResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthRoleGrantPermissionResponse roleGrantPermission(ApplyContext ctx, AuthRoleGrantPermissionRequest r) {
    auth.roleGrantPermission(ctx.index(), r.getName(), r.getPerm());
    return AuthRoleGrantPermissionResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthRoleGetResponse roleGet(ApplyContext ctx, AuthRoleGetRequest r) {
    return AuthRoleGetResponse.newBuilder().setHeader(current()).addAllPerm(auth.roleGet(r.getRole())).build();
  }

  @Override
  public AuthRoleRevokePermissionResponse roleRevokePermission(ApplyContext ctx, AuthRoleRevokePermissionRequest r) {
    auth.roleRevokePermission(ctx.index(), r.getRole(), r.getKey(), r.getRangeEnd());
    return AuthRoleRevokePermissionResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthRoleDeleteResponse roleDelete(ApplyContext ctx, AuthRoleDeleteRequest r) {
    auth.roleDelete(ctx.index(), r.getRole());
    return AuthRoleDeleteResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public AuthUserListResponse userList(ApplyContext ctx, AuthUserListRequest r) {
    return AuthUserListResponse.newBuilder().setHeader(current()).addAllUsers(auth.userList()).build();
  }

  @Override
  public AuthRoleListResponse roleList(ApplyContext ctx, AuthRoleListRequest r) {
    return AuthRoleListResponse.newBuilder().setHeader(current()).addAllRoles(auth.roleList()).build();
  }
}
