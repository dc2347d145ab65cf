package io.kvorum.server.etcddata;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdinternalpb.InternalAuthenticateRequest;
import io.kvorum.proto.etcdinternalpb.InternalRaftRequest;
import io.kvorum.proto.etcdinternalpb.Request;
import io.kvorum.proto.etcdraftpb.ConfChange;
import io.kvorum.proto.etcdraftpb.ConfChangeV2;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordRequest;
import io.kvorum.proto.serverpb.AuthUserAdd;
import io.kvorum.proto.serverpb.AuthUserChangePassword;
import io.kvorum.proto.serverpb.Authenticate;
import io.kvorum.proto.serverpb.ClusterVersionSet;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.server.auth.Passwords;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The payloads of an etcd 3.4 member's raft entries, and their translation into Kvorum's own
 * {@link io.kvorum.proto.serverpb.InternalRaftRequest}.
 *
 * <p>Design. An etcd entry is one of: a conf change ({@code raftpb.ConfChange}, whose context is the
 * member's JSON), a joint conf change (defined by raft, never proposed by etcd 3.4), an empty normal
 * entry (a new leader's no-op), or a normal entry with etcd's {@code InternalRaftRequest}. A v2
 * request is logged bare (a marshalled {@code etcdserverpb.Request}, not wrapped), so, as etcd's
 * {@code applyEntryNormal}, the data is tried as an {@code InternalRaftRequest} first and as a
 * {@code Request} when that does not decode. etcd 3.4 still logs two v2 requests: a member's
 * publish ({@code PUT /0/members/<hex id>/attributes}) and the cluster version
 * ({@code PUT /0/version}); anything else on v2 is refused.
 *
 * <p>The translation keeps etcd's header (request id, user, auth revision) and reuses the client
 * API's messages as they are. It never carries a plaintext password into Kvorum's log: etcd's user
 * add and password change are hashed with bcrypt here (Kvorum's own proposers do the same), and
 * etcd's authenticate keeps only the simple token's prefix.
 */
public final class EtcdEntries {
  private static final Pattern ATTRIBUTES_PATH = Pattern.compile("/0/members/([0-9a-f]{1,16})/attributes");
  private static final String VERSION_PATH = "/0/version";

  private EtcdEntries() {}

  /** What one etcd entry carries. */
  public sealed interface Payload permits Noop, MemberChange, JointChange, Raft, Publish, ClusterVersion, OtherV2 {}

  /** An empty normal entry: a new leader's first entry. */
  public record Noop() implements Payload {}

  /** What a {@link MemberChange} does to the membership. */
  public enum ChangeKind { ADD, ADD_LEARNER, PROMOTE, REMOVE, UPDATE }

  /**
   * A {@code ConfChange}: {@code member} is the context's member (add, add learner, update; only
   * its id for promote) and empty for remove, which carries only the node id.
   */
  public record MemberChange(ConfChange confChange, ChangeKind kind, long memberId, Optional<EtcdMember> member)
      implements Payload {}

  /** A {@code ConfChangeV2}, which etcd 3.4 never proposes. */
  public record JointChange(ConfChangeV2 change) implements Payload {}

  /** An etcd v3 request. */
  public record Raft(InternalRaftRequest request) implements Payload {}

  /** A member publishing its name and client URLs (v2 PUT of its attributes). */
  public record Publish(long requestId, long memberId, String name, List<String> clientUrls) implements Payload {}

  /** The cluster version the leader decided (v2 PUT of /0/version). */
  public record ClusterVersion(long requestId, String version) implements Payload {}

  /** Any other v2 request: Kvorum has no v2 store and cannot take it. */
  public record OtherV2(Request request) implements Payload {}

  /** A translation's outcome. */
  public sealed interface Translation permits Translated, Refused {}

  public record Translated(io.kvorum.proto.serverpb.InternalRaftRequest request) implements Translation {}

  /** A request Kvorum cannot take, and why. */
  public record Refused(String reason) implements Translation {}

  /** Decodes an entry's payload; an entry whose data does not decode is an exception. */
  public static Payload decode(Entry e) throws EtcdDataException {
    if (e.getUnknownFields().hasField(Entry.TYPE_FIELD_NUMBER)) {
      throw new EtcdDataException("entry " + e.getIndex() + ": unknown entry type "
          + e.getUnknownFields().getField(Entry.TYPE_FIELD_NUMBER).getVarintList());
    }
    try {
      return switch (e.getType()) {
        case EntryConfChange -> decodeConfChange(e, ConfChange.parseFrom(e.getData()));
        case EntryConfChangeV2 -> new JointChange(ConfChangeV2.parseFrom(e.getData()));
        case EntryNormal -> decodeNormal(e);
      };
    } catch (InvalidProtocolBufferException ex) {
      throw new EtcdDataException("entry " + e.getIndex() + " (" + e.getType() + ") does not decode: " + ex.getMessage(), ex);
    }
  }

  private static Payload decodeConfChange(Entry e, ConfChange cc) throws EtcdDataException {
    long node = cc.getNodeId();
    switch (cc.getType()) {
      case ConfChangeRemoveNode:
        return new MemberChange(cc, ChangeKind.REMOVE, node, Optional.empty());
      case ConfChangeAddNode:
      case ConfChangeAddLearnerNode:
      case ConfChangeUpdateNode: {
        boolean[] promote = new boolean[1];
        EtcdMember m = V2Membership.parseMemberJson(cc.getContext().toByteArray(), promote);
        if (m.id() != node) {
          throw new EtcdDataException("entry " + e.getIndex() + ": conf change for node " + Long.toHexString(node)
              + " carries member " + Long.toHexString(m.id()));
        }
        ChangeKind kind = switch (cc.getType()) {
          case ConfChangeUpdateNode -> ChangeKind.UPDATE;
          case ConfChangeAddLearnerNode -> ChangeKind.ADD_LEARNER;
          default -> promote[0] ? ChangeKind.PROMOTE : ChangeKind.ADD;
        };
        return new MemberChange(cc, kind, node, Optional.of(m));
      }
      default:
        throw new EtcdDataException("entry " + e.getIndex() + ": unknown conf change type " + cc.getType());
    }
  }

  private static Payload decodeNormal(Entry e) throws EtcdDataException {
    if (e.getData().isEmpty()) {
      return new Noop();
    }
    try {
      InternalRaftRequest r = InternalRaftRequest.parseFrom(e.getData());
      if (r.hasV2()) {
        return decodeV2(r.getV2());
      }
      // protobuf-java keeps a field of the wrong wire type as unknown where Go's decoder fails,
      // so a bare v2 Request can decode into nothing known: then it is the v2 Request.
      if (r.getAllFields().isEmpty() && !r.getUnknownFields().asMap().isEmpty()) {
        return decodeV2(Request.parseFrom(e.getData()));
      }
      return new Raft(r);
    } catch (InvalidProtocolBufferException notRaft) {
      try {
        return decodeV2(Request.parseFrom(e.getData()));
      } catch (InvalidProtocolBufferException ex) {
        throw new EtcdDataException("entry " + e.getIndex() + ": normal entry is neither an InternalRaftRequest nor a v2 Request", ex);
      }
    }
  }

  private static Payload decodeV2(Request r) throws EtcdDataException {
    if (!"PUT".equals(r.getMethod())) {
      return new OtherV2(r);
    }
    Matcher m = ATTRIBUTES_PATH.matcher(r.getPath());
    if (m.matches()) {
      EtcdMember attrs = V2Membership.parseMemberJson(withId(r.getVal()), null);
      return new Publish(r.getID(), V2Membership.parseId(m.group(1)), attrs.name(), attrs.clientUrls());
    }
    if (VERSION_PATH.equals(r.getPath())) {
      return new ClusterVersion(r.getID(), r.getVal());
    }
    return new OtherV2(r);
  }

  /** The attributes JSON has no id; parse it as a member with id 0. */
  private static byte[] withId(String attributesJson) {
    String body = attributesJson.strip();
    String json = body.equals("{}") ? "{\"id\":0}" : "{\"id\":0," + body.substring(body.indexOf('{') + 1);
    return json.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Translates a normal entry's payload into Kvorum's request, or says why it cannot be. A no-op
   * and the conf changes are not requests: they are refused here and handled by the caller.
   */
  public static Translation translate(Payload p, Passwords passwords) {
    if (p instanceof Raft r) {
      return translate(r.request(), passwords);
    }
    if (p instanceof Publish pub) {
      return new Translated(io.kvorum.proto.serverpb.InternalRaftRequest.newBuilder()
          .setHeader(RequestHeader.newBuilder().setId(pub.requestId()))
          .setPublish(MemberAttributes.newBuilder().setMemberId(pub.memberId()).setName(pub.name())
              .addAllClientUrls(pub.clientUrls()))
          .build());
    }
    if (p instanceof ClusterVersion v) {
      return new Translated(io.kvorum.proto.serverpb.InternalRaftRequest.newBuilder()
          .setHeader(RequestHeader.newBuilder().setId(v.requestId()))
          .setClusterVersion(ClusterVersionSet.newBuilder().setVersion(v.version()))
          .build());
    }
    if (p instanceof OtherV2 o) {
      return new Refused("v2 request " + o.request().getMethod() + " " + o.request().getPath()
          + ": Kvorum has no v2 store");
    }
    if (p instanceof Noop) {
      return new Refused("an empty entry (a new leader's no-op) is not a request");
    }
    if (p instanceof MemberChange) {
      return new Refused("a conf change is not a request");
    }
    return new Refused("a joint conf change (ConfChangeV2) is not a request, and etcd 3.4 never logs one");
  }

  /** Translates etcd's v3 request into Kvorum's, keeping etcd's header. */
  public static Translation translate(InternalRaftRequest r, Passwords passwords) {
    if (r.hasV2()) {
      try {
        return translate(decodeV2(r.getV2()), passwords);
      } catch (EtcdDataException e) {
        return new Refused(e.getMessage());
      }
    }
    io.kvorum.proto.serverpb.InternalRaftRequest.Builder b = io.kvorum.proto.serverpb.InternalRaftRequest.newBuilder()
        .setHeader(RequestHeader.newBuilder().setId(r.getHeader().getID()).setUsername(r.getHeader().getUsername())
            .setAuthRevision(r.getHeader().getAuthRevision()));
    if (r.hasRange()) {
      b.setRange(r.getRange());
    } else if (r.hasPut()) {
      b.setPut(r.getPut());
    } else if (r.hasDeleteRange()) {
      b.setDeleteRange(r.getDeleteRange());
    } else if (r.hasTxn()) {
      b.setTxn(r.getTxn());
    } else if (r.hasCompaction()) {
      b.setCompaction(r.getCompaction());
    } else if (r.hasLeaseGrant()) {
      b.setLeaseGrant(r.getLeaseGrant());
    } else if (r.hasLeaseRevoke()) {
      b.setLeaseRevoke(r.getLeaseRevoke());
    } else if (r.hasAlarm()) {
      b.setAlarm(r.getAlarm());
    } else if (r.hasLeaseCheckpoint()) {
      b.setLeaseCheckpoint(r.getLeaseCheckpoint());
    } else if (r.hasAuthEnable()) {
      b.setAuthEnable(r.getAuthEnable());
    } else if (r.hasAuthDisable()) {
      b.setAuthDisable(r.getAuthDisable());
    } else if (r.hasAuthenticate()) {
      InternalAuthenticateRequest a = r.getAuthenticate();
      b.setAuthenticate(Authenticate.newBuilder().setName(a.getName()).setSimpleTokenPrefix(a.getSimpleToken()));
    } else if (r.hasAuthUserAdd()) {
      AuthUserAddRequest a = r.getAuthUserAdd();
      AuthUserAdd.Builder add = AuthUserAdd.newBuilder().setName(a.getName()).setOptions(a.getOptions());
      if (!a.getOptions().getNoPassword()) {
        add.setHashedPassword(ByteString.copyFrom(passwords.hash(a.getPassword())));
      }
      b.setAuthUserAdd(add);
    } else if (r.hasAuthUserDelete()) {
      b.setAuthUserDelete(r.getAuthUserDelete());
    } else if (r.hasAuthUserGet()) {
      b.setAuthUserGet(r.getAuthUserGet());
    } else if (r.hasAuthUserChangePassword()) {
      AuthUserChangePasswordRequest c = r.getAuthUserChangePassword();
      b.setAuthUserChangePassword(AuthUserChangePassword.newBuilder().setName(c.getName())
          .setHashedPassword(ByteString.copyFrom(passwords.hash(c.getPassword()))));
    } else if (r.hasAuthUserGrantRole()) {
      b.setAuthUserGrantRole(r.getAuthUserGrantRole());
    } else if (r.hasAuthUserRevokeRole()) {
      b.setAuthUserRevokeRole(r.getAuthUserRevokeRole());
    } else if (r.hasAuthUserList()) {
      b.setAuthUserList(r.getAuthUserList());
    } else if (r.hasAuthRoleList()) {
      b.setAuthRoleList(r.getAuthRoleList());
    } else if (r.hasAuthRoleAdd()) {
      b.setAuthRoleAdd(r.getAuthRoleAdd());
    } else if (r.hasAuthRoleDelete()) {
      b.setAuthRoleDelete(r.getAuthRoleDelete());
    } else if (r.hasAuthRoleGet()) {
      b.setAuthRoleGet(r.getAuthRoleGet());
    } else if (r.hasAuthRoleGrantPermission()) {
      b.setAuthRoleGrantPermission(r.getAuthRoleGrantPermission());
    } else if (r.hasAuthRoleRevokePermission()) {
      b.setAuthRoleRevokePermission(r.getAuthRoleRevokePermission());
    } else {
      return new Refused("etcd request with no request Kvorum knows (fields " + r.getUnknownFields().asMap().keySet() + ")");
    }
    return new Translated(b.build());
  }
}
