package io.kvorum.tests.differential;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.TextFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the messages of one side as text, replacing only what legitimately differs between two
 * servers with names that are stable across sides: member and cluster ids become the member's
 * name, terms, raft indexes and sizes are masked when set, ports become the member's name, and
 * server-chosen lease ids become {@code lease#k} in order of appearance (ids the scenario chose
 * stay as they are). Repeated fields whose order etcd does not define are sorted.
 */
final class Normalizer {
  /** Fields that hold member ids. */
  private static final Set<String> MEMBER_IDS = Set.of(
      "etcdserverpb.ResponseHeader.member_id", "etcdserverpb.Member.ID", "etcdserverpb.MemberRemoveRequest.ID",
      "etcdserverpb.MemberUpdateRequest.ID", "etcdserverpb.MemberPromoteRequest.ID",
      "etcdserverpb.StatusResponse.leader", "etcdserverpb.MoveLeaderRequest.targetID",
      "etcdserverpb.AlarmRequest.memberID", "etcdserverpb.AlarmMember.memberID");
  /** Fields that hold lease ids. */
  private static final Set<String> LEASE_IDS = Set.of(
      "etcdserverpb.LeaseGrantRequest.ID", "etcdserverpb.LeaseGrantResponse.ID", "etcdserverpb.LeaseRevokeRequest.ID",
      "etcdserverpb.LeaseKeepAliveRequest.ID", "etcdserverpb.LeaseKeepAliveResponse.ID",
      "etcdserverpb.LeaseTimeToLiveRequest.ID", "etcdserverpb.LeaseTimeToLiveResponse.ID",
      "etcdserverpb.LeaseStatus.ID", "etcdserverpb.PutRequest.lease", "mvccpb.KeyValue.lease",
      "v3electionpb.CampaignRequest.lease", "v3electionpb.LeaderKey.lease", "v3lockpb.LockRequest.lease");
  /** Fields whose value depends on timing, raft's history or the storage engine: only "set or not" is compared. */
  private static final Set<String> MASKED = Set.of(
      "etcdserverpb.ResponseHeader.raft_term", "etcdserverpb.StatusResponse.dbSize",
      "etcdserverpb.StatusResponse.dbSizeInUse", "etcdserverpb.StatusResponse.raftIndex",
      "etcdserverpb.StatusResponse.raftTerm", "etcdserverpb.StatusResponse.raftAppliedIndex",
      "etcdserverpb.HashResponse.hash", "etcdserverpb.AuthenticateResponse.token");
  /** Fields holding URLs, whose ports differ by side. */
  private static final Set<String> URLS = Set.of(
      "etcdserverpb.Member.peerURLs", "etcdserverpb.Member.clientURLs", "etcdserverpb.MemberAddRequest.peerURLs",
      "etcdserverpb.MemberUpdateRequest.peerURLs");
  /** Repeated fields whose order etcd leaves to Go's map iteration: compared as sets. */
  private static final Set<String> UNORDERED = Set.of(
      "etcdserverpb.LeaseLeasesResponse.leases", "etcdserverpb.LeaseTimeToLiveResponse.keys",
      "etcdserverpb.AlarmResponse.alarms", "etcdserverpb.StatusResponse.errors");
  private static final Pattern GO_TOO_LARGE = Pattern.compile(
      "grpc: received message larger than max \\((\\d+) vs\\. (\\d+)\\)");
  private static final Pattern JAVA_TOO_LARGE = Pattern.compile("gRPC message exceeds maximum size (\\d+): (\\d+)");
  private static final Pattern PORT = Pattern.compile("(127\\.0\\.0\\.1|localhost):(\\d+)");
  /** A member id in the text of an alarm (Status lists alarms in Go's text form, ids in decimal). */
  private static final Pattern ALARM_MEMBER = Pattern.compile("memberID:(\\d+)");

  private final Map<Long, String> members;
  private final Map<Long, String> leases = new HashMap<>();
  private final Map<Integer, String> ports;
  private long clusterId;
  private int newMembers;
  private int newLeases;
  private int newPorts;
  /** The granted TTL of the last time-to-live answer, to judge its remaining TTL. */
  private long lastGrantedTtl;

  Normalizer(Side side) {
    this.members = new HashMap<>(side.memberNames);
    this.ports = new HashMap<>(side.portNames);
  }

  String request(MessageOrBuilder m) {
    StringBuilder sb = new StringBuilder();
    render(m, "", sb, true);
    return sb.toString();
  }

  String response(MessageOrBuilder m) {
    StringBuilder sb = new StringBuilder();
    render(m, "", sb, false);
    return sb.toString();
  }

  /**
   * An error description: this side's ports replaced, and the gRPC library's "message too large"
   * text, which grpc-go and grpc-java word differently around the same two numbers, in one form
   * that keeps both numbers.
   */
  String error(String description) {
    Matcher go = GO_TOO_LARGE.matcher(description);
    if (go.matches()) {
      return "<gRPC: received message of " + go.group(1) + " bytes, larger than the limit of " + go.group(2) + ">";
    }
    Matcher java = JAVA_TOO_LARGE.matcher(description);
    if (java.matches()) {
      return "<gRPC: received message of " + java.group(2) + " bytes, larger than the limit of " + java.group(1) + ">";
    }
    return text(description);
  }

  /** Replaces this side's ports in free text (error messages name URLs too). */
  String text(String s) {
    Matcher matcher = PORT.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (matcher.find()) {
      matcher.appendReplacement(sb, Matcher.quoteReplacement(matcher.group(1) + ":" + port(Integer.parseInt(matcher.group(2)))));
    }
    matcher.appendTail(sb);
    return sb.toString();
  }

  /** Replaces the decimal member ids in an alarm's text with the members' names. */
  private String alarmMembers(String s) {
    Matcher matcher = ALARM_MEMBER.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (matcher.find()) {
      long id = Long.parseUnsignedLong(matcher.group(1));
      matcher.appendReplacement(sb, Matcher.quoteReplacement("memberID:"
          + members.computeIfAbsent(id, x -> "member#" + (++newMembers))));
    }
    matcher.appendTail(sb);
    return sb.toString();
  }

  private String port(int port) {
    return ports.computeIfAbsent(port, p -> "port#" + (++newPorts));
  }

  private void render(MessageOrBuilder m, String indent, StringBuilder sb, boolean request) {
    String type = m.getDescriptorForType().getFullName();
    if (type.equals("etcdserverpb.LeaseTimeToLiveResponse")) {
      lastGrantedTtl = (Long) m.getField(m.getDescriptorForType().findFieldByName("grantedTTL"));
    }
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated()) {
        int n = m.getRepeatedFieldCount(f);
        if (n == 0) {
          continue;
        }
        List<String> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          items.add(value(f, m.getRepeatedField(f, i), indent, request));
        }
        if (UNORDERED.contains(f.getFullName())) {
          items.sort(null);
        }
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
            && f.getMessageType().getFullName().equals("etcdserverpb.Member")) {
          // etcd lists members sorted by id; ids differ by side, so check the order, then compare as a set.
          List<Long> ids = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            ids.add(((io.kvorum.proto.etcdserverpb.Member) m.getRepeatedField(f, i)).getID());
          }
          List<Long> sorted = new ArrayList<>(ids);
          sorted.sort(Long::compareUnsigned);
          sb.append(indent).append(f.getName()).append(" order: ").append(ids.equals(sorted) ? "by id" : "not by id")
              .append('\n');
          items.sort(null);
        }
        for (String item : items) {
          sb.append(indent).append(f.getName()).append(": ").append(item).append('\n');
        }
      } else if (m.hasField(f)) {
        sb.append(indent).append(f.getName()).append(": ").append(value(f, m.getField(f), indent, request))
            .append('\n');
      }
    }
    if (m instanceof com.google.protobuf.Message msg && !msg.getUnknownFields().asMap().isEmpty()) {
      sb.append(indent).append("unknown fields: ").append(msg.getUnknownFields().toString().replace('\n', ' '))
          .append('\n');
    }
  }

  private String value(FieldDescriptor f, Object v, String indent, boolean request) {
    String name = f.getFullName();
    if (MASKED.contains(name)) {
      return "<" + f.getName() + ">";
    }
    switch (f.getJavaType()) {
      case MESSAGE -> {
        StringBuilder sb = new StringBuilder("{\n");
        render((MessageOrBuilder) v, indent + "  ", sb, request);
        return sb.append(indent).append('}').toString();
      }
      case BYTE_STRING -> {
        return '"' + TextFormat.escapeBytes((ByteString) v) + '"';
      }
      case STRING -> {
        String s = (String) v;
        if (name.equals("etcdserverpb.StatusResponse.errors")) {
          s = alarmMembers(s);
        }
        return '"' + TextFormat.escapeDoubleQuotesAndBackslashes(URLS.contains(name) ? text(s) : s) + '"';
      }
      case ENUM -> {
        return ((EnumValueDescriptor) v).getName();
      }
      case LONG -> {
        long l = (Long) v;
        if (name.equals("etcdserverpb.ResponseHeader.cluster_id")) {
          if (clusterId == 0) {
            clusterId = l;
          }
          return l == clusterId ? "<cluster>" : "<another cluster " + Long.toHexString(l) + ">";
        }
        if (MEMBER_IDS.contains(name)) {
          return members.computeIfAbsent(l, id -> request ? Long.toHexString(id) : "member#" + (++newMembers));
        }
        if (LEASE_IDS.contains(name)) {
          return leases.computeIfAbsent(l, id -> request ? Long.toString(id) : "lease#" + (++newLeases));
        }
        if (name.equals("etcdserverpb.LeaseTimeToLiveResponse.TTL") && l > 0 && l <= lastGrantedTtl) {
          return "<remaining, at most grantedTTL>";
        }
        return Long.toString(l);
      }
      default -> {
        return String.valueOf(v);
      }
    }
  }
}
