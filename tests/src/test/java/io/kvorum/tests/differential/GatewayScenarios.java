package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.single;

import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AuthenticateResponse;
import io.kvorum.proto.etcdserverpb.AuthDisableResponse;
import io.kvorum.proto.etcdserverpb.AuthEnableResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleAddResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthUserAddResponse;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGetResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleResponse;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.MemberListResponse;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimResponse;
import io.kvorum.proto.v3electionpb.ResignResponse;
import io.kvorum.proto.v3lockpb.LockResponse;
import io.kvorum.proto.v3lockpb.UnlockResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON gateway (and the HTTP endpoints beside it): the same calls as the gRPC scenarios, sent
 * as etcd's JSON over HTTP/1.1 to the client URL, with status, shape and body compared. Lease ids
 * are chosen by the scenarios (a range no other scenario uses), so request bodies match too.
 */
final class GatewayScenarios {
  private GatewayScenarios() {}

  /** Lease ids of these scenarios. */
  static final long LEASE_BASE = 0x6a7e_0000L;

  /** etcd's prefix end: the prefix with its last byte below 0xff incremented. */
  static com.google.protobuf.ByteString prefixEnd(com.google.protobuf.ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        b[i]++;
        return com.google.protobuf.ByteString.copyFrom(b, 0, i + 1);
      }
    }
    return com.google.protobuf.ByteString.copyFrom(new byte[] {0});
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("gateway: put, range, delete, txn and compaction as JSON", c -> {
      HttpRecorder h = new HttpRecorder(c);
      String a = h.key("a");
      String b = h.key("b");
      h.post("/v3/kv/put", "{\"key\":\"" + a + "\",\"value\":\"" + HttpRecorder.b64("1") + "\"}",
          PutResponse.getDefaultInstance());
      h.post("/v3/kv/put", "{\"key\":\"" + a + "\",\"value\":\"" + HttpRecorder.b64("2") + "\",\"prev_kv\":true}",
          PutResponse.getDefaultInstance());
      h.post("/v3/kv/put", "{\"key\":\"" + b + "\",\"value\":\"\"}", PutResponse.getDefaultInstance());
      h.post("/v3/kv/range", "{\"key\":\"" + a + "\"}", RangeResponse.getDefaultInstance());
      String prefix = java.util.Base64.getEncoder().encodeToString(c.prefix().toByteArray());
      String end = java.util.Base64.getEncoder().encodeToString(prefixEnd(c.prefix()).toByteArray());
      h.post("/v3/kv/range", "{\"key\":\"" + prefix + "\",\"range_end\":\"" + end + "\",\"sort_order\":\"DESCEND\","
          + "\"sort_target\":\"KEY\"}", RangeResponse.getDefaultInstance());
      h.post("/v3/kv/range", "{\"key\":\"" + prefix + "\",\"range_end\":\"" + end + "\",\"count_only\":true}",
          RangeResponse.getDefaultInstance());
      h.post("/v3/kv/range", "{\"key\":\"" + prefix + "\",\"range_end\":\"" + end + "\",\"keys_only\":true,"
          + "\"limit\":1}", RangeResponse.getDefaultInstance());
      h.post("/v3/kv/txn", "{\"compare\":[{\"target\":\"VALUE\",\"result\":\"EQUAL\",\"key\":\"" + a + "\","
          + "\"value\":\"" + HttpRecorder.b64("2") + "\"}],\"success\":[{\"request_range\":{\"key\":\"" + b
          + "\"}},{\"request_put\":{\"key\":\"" + b + "\",\"value\":\"" + HttpRecorder.b64("x") + "\"}}],"
          + "\"failure\":[{\"request_delete_range\":{\"key\":\"" + a + "\"}}]}", TxnResponse.getDefaultInstance());
      h.post("/v3/kv/txn", "{\"compare\":[{\"target\":\"VERSION\",\"result\":\"GREATER\",\"key\":\"" + a + "\","
          + "\"version\":\"10\"}],\"failure\":[{\"request_txn\":{\"success\":[{\"request_range\":{\"key\":\"" + a
          + "\"}}]}}]}", TxnResponse.getDefaultInstance());
      h.post("/v3/kv/deleterange", "{\"key\":\"" + prefix + "\",\"range_end\":\"" + end + "\",\"prev_kv\":true}",
          DeleteRangeResponse.getDefaultInstance());
      h.post("/v3/kv/compaction", "{\"revision\":\"" + (c.revision() + 1000) + "\"}",
          CompactionResponse.getDefaultInstance());
    }));
    s.add(single("gateway: errors, paths and methods", c -> {
      HttpRecorder h = new HttpRecorder(c);
      h.send("POST", "/v3/kv/range", "{}");
      h.sendMalformed("/v3/kv/range", "{\"key\":");
      h.send("POST", "/v3/kv/range", "{\"key\":\"" + h.key("k") + "\",\"revision\":\"" + (c.revision() + 1000)
          + "\"}");
      h.send("POST", "/v3/kv/put", "{\"key\":\"" + h.key("k") + "\",\"lease\":\"" + (LEASE_BASE + 99) + "\"}");
      h.send("POST", "/v3/lease/revoke", "{\"ID\":\"" + (LEASE_BASE + 99) + "\"}");
      h.send("POST", "/v3/kv/txn", "{\"success\":[{\"request_put\":{\"key\":\"" + h.key("k") + "\"}},"
          + "{\"request_put\":{\"key\":\"" + h.key("k") + "\"}}]}");
      h.send("GET", "/v3/kv/range", null);
      h.send("POST", "/v3/kv/nothing", "{}");
      h.send("POST", "/v3alpha/kv/range", "{}");
      h.post("/v3beta/kv/range", "{\"key\":\"" + h.key("k") + "\"}", RangeResponse.getDefaultInstance());
      h.sendMalformed("/v3/kv/range", "not json");
      h.sendMalformed("/v3/kv/range", "{\"key\":\"not base64!\"}");
      h.sendMalformed("/v3/kv/range", "{\"revision\":\"x\"}");
      h.post("/v3/kv/range", "", RangeResponse.getDefaultInstance());
    }));
    s.add(single("gateway: malformed bodies, answered in etcd's words", c -> {
      HttpRecorder h = new HttpRecorder(c);
      String k = h.key("m");
      for (String body : List.of("{{{}", "z{{{}", "[1]", "\"str\"", "1", "nul", "null", "{\"key\":1}",
          "{\"key\":\"!!\"}", "{\"key\":\"YQ\"}", "{\"key\":\"YQ==YQ==\"}", "{\"key\":[256]}",
          "{\"key\":\"" + k + "\",\"limit\":\"x\"}", "{\"key\":\"" + k + "\",\"limit\":\"1 2\"}",
          "{\"key\":\"" + k + "\",\"limit\":1.5}", "{\"key\":\"" + k + "\",\"keys_only\":\"true\"}",
          "{\"key\":\"" + k + "\",\"sort_order\":\"BAD\"}", "{\"key\":\"" + k + "\",\"sort_order\":3000000000}",
          "{\"key\":\"" + k + "\",}", "{\"key\":\"a\\q\"}",
          "{\"key\":\"\u0001\"}", "[[[[", "{\"a\":tx}", "{\"a\":1e}")) {
        h.sendMalformed("/v3/kv/range", body);
      }
      // A unary call reads the body's first value only.
      h.post("/v3/kv/range", "{\"key\":\"" + k + "\"} trailing garbage", RangeResponse.getDefaultInstance());
      h.sendMalformed("/v3/kv/txn", "{\"compare\":{}}");
      h.sendMalformed("/v3/kv/txn", "{\"compare\":[{\"target_union\":1}]}");
      h.sendMalformed("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + k + "\",\"target\":\"BAD\"}]}");
      // A stream's first message that does not decode is refused before the stream starts.
      h.sendMalformed("/v3/watch", "{{{}");
      h.sendMalformed("/v3/watch", "{\"create_request\":{\"key\":\"" + k + "\",\"filters\":[\"BAD\"]}}");
      h.sendMalformed("/v3/lease/keepalive", "{\"ID\":\"x\"}");
      h.sendMalformed("/v3/lease/keepalive", "nul");
    }));
    s.add(single("gateway: health and version", c -> {
      HttpRecorder h = new HttpRecorder(c);
      h.send("GET", "/health", null);
      h.send("GET", "/health?exclude=NOSPACE&serializable=true", null);
      h.send("POST", "/health", "");
      h.send("GET", "/version", null);
      h.send("GET", "/nothing", null);
    }));
    s.add(single("gateway: leases and the keep-alive stream", c -> {
      HttpRecorder h = new HttpRecorder(c);
      long id = LEASE_BASE + 1;
      h.post("/v3/lease/grant", "{\"TTL\":60,\"ID\":" + id + "}", LeaseGrantResponse.getDefaultInstance());
      h.post("/v3/kv/put", "{\"key\":\"" + h.key("l") + "\",\"lease\":\"" + id + "\"}",
          PutResponse.getDefaultInstance());
      h.post("/v3/lease/timetolive", "{\"ID\":\"" + id + "\",\"keys\":true}",
          LeaseTimeToLiveResponse.getDefaultInstance());
      h.post("/v3/kv/lease/timetolive", "{\"ID\":\"" + id + "\"}", LeaseTimeToLiveResponse.getDefaultInstance());
      try (HttpRecorder.Stream ka = h.stream("/v3/lease/keepalive", "{\"ID\":\"" + id + "\"}\n{\"ID\":" + id + "}")) {
        ka.next(LeaseKeepAliveResponse.getDefaultInstance());
        ka.next(LeaseKeepAliveResponse.getDefaultInstance());
        ka.next(LeaseKeepAliveResponse.getDefaultInstance());
      }
      h.post("/v3/kv/lease/revoke", "{\"ID\":\"" + id + "\"}", LeaseRevokeResponse.getDefaultInstance());
      h.post("/v3/kv/range", "{\"key\":\"" + h.key("l") + "\"}", RangeResponse.getDefaultInstance());
    }));
    s.add(single("gateway: a watch streams its events and outlives its request body", c -> {
      HttpRecorder h = new HttpRecorder(c);
      h.post("/v3/kv/put", "{\"key\":\"" + h.key("w") + "\",\"value\":\"" + HttpRecorder.b64("1") + "\"}",
          PutResponse.getDefaultInstance());
      long rev = c.revision();
      try (HttpRecorder.Stream w = h.stream("/v3/watch", "{\"create_request\":{\"key\":\"" + h.key("w")
          + "\",\"start_revision\":\"" + rev + "\",\"prev_kv\":true}}")) {
        w.next(WatchResponse.getDefaultInstance());
        w.next(WatchResponse.getDefaultInstance());
        h.post("/v3/kv/put", "{\"key\":\"" + h.key("w") + "\",\"value\":\"" + HttpRecorder.b64("2") + "\"}",
            PutResponse.getDefaultInstance());
        w.next(WatchResponse.getDefaultInstance());
        h.post("/v3/kv/deleterange", "{\"key\":\"" + h.key("w") + "\"}", DeleteRangeResponse.getDefaultInstance());
        w.next(WatchResponse.getDefaultInstance());
      }
    }));
    s.add(single("gateway: cluster and maintenance", c -> {
      HttpRecorder h = new HttpRecorder(c);
      h.post("/v3/cluster/member/list", "{}", MemberListResponse.getDefaultInstance());
      h.post("/v3/maintenance/status", "{}", StatusResponse.getDefaultInstance());
      h.post("/v3/maintenance/alarm", "{\"action\":\"GET\"}", AlarmResponse.getDefaultInstance());
      h.post("/v3/maintenance/hash", "{}", HashResponse.getDefaultInstance());
      h.send("POST", "/v3/cluster/member/remove", "{\"ID\":\"1\"}");
    }));
    s.add(single("gateway: auth through the Authorization header", c -> {
      HttpRecorder h = new HttpRecorder(c);
      h.post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"" + AuthScenarios.ROOT_PW + "\"}",
          AuthUserAddResponse.getDefaultInstance());
      h.post("/v3/auth/role/add", "{\"name\":\"root\"}", AuthRoleAddResponse.getDefaultInstance());
      h.post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}",
          AuthUserGrantRoleResponse.getDefaultInstance());
      h.post("/v3/auth/enable", "{}", AuthEnableResponse.getDefaultInstance());
      h.send("POST", "/v3/kv/put", "{\"key\":\"" + h.key("x") + "\"}");
      h.send("POST", "/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"wrong\"}");
      AuthenticateResponse login = h.post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\""
          + AuthScenarios.ROOT_PW + "\"}", AuthenticateResponse.getDefaultInstance());
      h.authorization("not-a-token.1");
      h.send("POST", "/v3/kv/put", "{\"key\":\"" + h.key("x") + "\"}");
      if (login != null) {
        h.authorization(login.getToken());
      }
      h.post("/v3/kv/put", "{\"key\":\"" + h.key("x") + "\"}", PutResponse.getDefaultInstance());
      h.post("/v3/auth/user/get", "{\"name\":\"root\"}", AuthUserGetResponse.getDefaultInstance());
      h.post("/v3/auth/disable", "{}", AuthDisableResponse.getDefaultInstance());
      h.authorization(null);
      h.post("/v3/auth/user/delete", "{\"name\":\"root\"}", AuthUserDeleteResponse.getDefaultInstance());
      h.post("/v3/auth/role/delete", "{\"role\":\"root\"}", AuthRoleDeleteResponse.getDefaultInstance());
    }));
    s.add(single("gateway: election and lock as JSON", c -> {
      HttpRecorder h = new HttpRecorder(c);
      long id = LEASE_BASE + 2;
      h.post("/v3/lease/grant", "{\"TTL\":60,\"ID\":" + id + "}", LeaseGrantResponse.getDefaultInstance());
      String name = h.key("e");
      CampaignResponse won = h.post("/v3/election/campaign", "{\"name\":\"" + name + "\",\"lease\":\"" + id
          + "\",\"value\":\"" + HttpRecorder.b64("v1") + "\"}", CampaignResponse.getDefaultInstance());
      h.post("/v3/election/leader", "{\"name\":\"" + name + "\"}", LeaderResponse.getDefaultInstance());
      if (won != null) {
        String leader = "{\"name\":\"" + name + "\",\"key\":\"" + java.util.Base64.getEncoder().encodeToString(
            won.getLeader().getKey().toByteArray()) + "\",\"rev\":\"" + won.getLeader().getRev() + "\",\"lease\":\""
            + id + "\"}";
        h.post("/v3/election/proclaim", "{\"leader\":" + leader + ",\"value\":\"" + HttpRecorder.b64("v2") + "\"}",
            ProclaimResponse.getDefaultInstance());
        try (HttpRecorder.Stream o = h.stream("/v3/election/observe", "{\"name\":\"" + name + "\"}")) {
          o.next(LeaderResponse.getDefaultInstance());
        }
        h.post("/v3/election/resign", "{\"leader\":" + leader + "}", ResignResponse.getDefaultInstance());
      }
      h.send("POST", "/v3/election/proclaim", "{\"value\":\"" + HttpRecorder.b64("v3") + "\"}");
      h.send("POST", "/v3/election/resign", "{}");
      h.send("POST", "/v3/election/leader", "{\"name\":\"" + name + "\"}");
      LockResponse lock = h.post("/v3/lock/lock", "{\"name\":\"" + h.key("lk") + "\",\"lease\":\"" + id + "\"}",
          LockResponse.getDefaultInstance());
      if (lock != null) {
        h.post("/v3/lock/unlock", "{\"key\":\"" + java.util.Base64.getEncoder().encodeToString(
            lock.getKey().toByteArray()) + "\"}", UnlockResponse.getDefaultInstance());
      }
      h.post("/v3/lease/revoke", "{\"ID\":\"" + id + "\"}", LeaseRevokeResponse.getDefaultInstance());
    }));
    return s;
  }
}
