package io.kvorum.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.MethodDescriptor.MethodType;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.Rpc;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3lockpb.LockGrpc;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Pins a sample of the etcd 3.4 wire contract on the generated classes. The complete check (every
 * field, enum value and method against etcd's own .proto files) is a descriptor diff run outside
 * the build; these tests catch the mistakes most likely to slip in afterwards: a renumbered field,
 * a renamed service, a lost stream keyword.
 */
class EtcdWireContractTest {

  private static int number(Descriptor message, String field) {
    FieldDescriptor descriptor = message.findFieldByName(field);
    assertThat(descriptor).as("%s.%s", message.getFullName(), field).isNotNull();
    return descriptor.getNumber();
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  @Test
  void fieldNumbers_matchEtcd() {
    Descriptor range = RangeRequest.getDescriptor();
    assertThat(number(range, "serializable")).isEqualTo(7);
    assertThat(number(range, "keys_only")).isEqualTo(8);
    assertThat(number(range, "count_only")).isEqualTo(9);
    assertThat(number(range, "max_create_revision")).isEqualTo(13);
    assertThat(number(PutRequest.getDescriptor(), "ignore_lease")).isEqualTo(6);
    assertThat(number(ResponseHeader.getDescriptor(), "raft_term")).isEqualTo(4);
    assertThat(number(WatchCreateRequest.getDescriptor(), "fragment")).isEqualTo(8);
    assertThat(number(WatchResponse.getDescriptor(), "events")).isEqualTo(11);
    assertThat(number(StatusResponse.getDescriptor(), "dbSizeInUse")).isEqualTo(9);
    assertThat(number(StatusResponse.getDescriptor(), "isLearner")).isEqualTo(10);
    assertThat(number(Compare.getDescriptor(), "range_end")).isEqualTo(64);
    assertThat(number(Event.getDescriptor(), "prev_kv")).isEqualTo(3);
  }

  @Test
  void protoPackages_areEtcds() {
    assertThat(RangeRequest.getDescriptor().getFullName()).isEqualTo("etcdserverpb.RangeRequest");
    assertThat(KeyValue.getDescriptor().getFullName()).isEqualTo("mvccpb.KeyValue");
    assertThat(Permission.getDescriptor().getFullName()).isEqualTo("authpb.Permission");
    assertThat(Event.EventType.getDescriptor().getFullName()).isEqualTo("mvccpb.Event.EventType");
  }

  @Test
  void oneofs_matchEtcd() {
    assertThat(Compare.getDescriptor().getOneofs())
        .singleElement()
        .satisfies(o -> {
          assertThat(o.getName()).isEqualTo("target_union");
          assertThat(o.getFields())
              .extracting(FieldDescriptor::getName)
              .containsExactly("version", "create_revision", "mod_revision", "value", "lease");
        });
    assertThat(WatchRequest.getDescriptor().getOneofs())
        .singleElement()
        .satisfies(o -> assertThat(o.getFields())
            .extracting(FieldDescriptor::getName, FieldDescriptor::getNumber)
            .containsExactly(
                tuple("create_request", 1),
                tuple("cancel_request", 2),
                tuple("progress_request", 3)));
  }

  @Test
  void enumValues_matchEtcd() {
    assertThat(AlarmType.NOSPACE.getNumber()).isEqualTo(1);
    assertThat(AlarmType.CORRUPT.getNumber()).isEqualTo(2);
    assertThat(Event.EventType.DELETE.getNumber()).isEqualTo(1);
    assertThat(WatchCreateRequest.FilterType.NODELETE.getNumber()).isEqualTo(1);
    assertThat(RangeRequest.SortTarget.VALUE.getNumber()).isEqualTo(4);
    assertThat(Compare.CompareTarget.LEASE.getNumber()).isEqualTo(4);
    assertThat(Permission.Type.READWRITE.getNumber()).isEqualTo(2);
  }

  @Test
  void encoding_rangeKeysOnly_isEtcdsBytes() {
    byte[] wire = RangeRequest.newBuilder().setKey(bytes("a")).setKeysOnly(true).build().toByteArray();
    // key: tag (1 << 3 | 2) = 0x0a, length 1, 'a'; keys_only: tag (8 << 3 | 0) = 0x40, value 1.
    assertThat(wire).containsExactly(0x0a, 0x01, 'a', 0x40, 0x01);
  }

  @Test
  void roundTrip_nestedTxn_preservesEveryField() throws InvalidProtocolBufferException {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder()
            .setKey(bytes("k"))
            .setTarget(Compare.CompareTarget.MOD)
            .setResult(Compare.CompareResult.LESS)
            .setModRevision(7)
            .setRangeEnd(bytes("l")))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
            .setKey(bytes("k")).setValue(bytes("v")).setLease(42).setPrevKv(true)))
        .addFailure(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder()
            .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
                .setKey(bytes("\0")).setRangeEnd(bytes("\0"))
                .setSortOrder(RangeRequest.SortOrder.DESCEND).setCountOnly(true)))))
        .build();

    TxnRequest parsed = TxnRequest.parseFrom(txn.toByteArray());

    assertThat(parsed).isEqualTo(txn);
    assertThat(parsed.getCompare(0).getTargetUnionCase()).isEqualTo(Compare.TargetUnionCase.MOD_REVISION);
    assertThat(parsed.getFailure(0).getRequestTxn().getSuccess(0).getRequestRange().getCountOnly()).isTrue();
  }

  @Test
  void roundTrip_watchAndAuth_preservesEveryField() throws InvalidProtocolBufferException {
    WatchRequest watch = WatchRequest.newBuilder()
        .setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(bytes("a")).setStartRevision(5).setPrevKv(true).setWatchId(3).setFragment(true)
            .addFilters(WatchCreateRequest.FilterType.NOPUT))
        .build();
    AuthUserAddRequest userAdd = AuthUserAddRequest.newBuilder()
        .setName("root").setPassword("pw")
        .setOptions(UserAddOptions.newBuilder().setNoPassword(true))
        .build();

    assertThat(WatchRequest.parseFrom(watch.toByteArray())).isEqualTo(watch);
    assertThat(AuthUserAddRequest.parseFrom(userAdd.toByteArray())).isEqualTo(userAdd);
  }

  @Test
  void grpcMethods_haveEtcdNamesAndStreamingKinds() {
    assertThat(KVGrpc.getRangeMethod().getFullMethodName()).isEqualTo("etcdserverpb.KV/Range");
    assertThat(KVGrpc.getRangeMethod().getType()).isEqualTo(MethodType.UNARY);
    assertThat(WatchGrpc.getWatchMethod().getFullMethodName()).isEqualTo("etcdserverpb.Watch/Watch");
    assertThat(WatchGrpc.getWatchMethod().getType()).isEqualTo(MethodType.BIDI_STREAMING);
    assertThat(LeaseGrpc.getLeaseKeepAliveMethod().getFullMethodName())
        .isEqualTo("etcdserverpb.Lease/LeaseKeepAlive");
    assertThat(LeaseGrpc.getLeaseKeepAliveMethod().getType()).isEqualTo(MethodType.BIDI_STREAMING);
    assertThat(MaintenanceGrpc.getSnapshotMethod().getFullMethodName())
        .isEqualTo("etcdserverpb.Maintenance/Snapshot");
    assertThat(MaintenanceGrpc.getSnapshotMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
    assertThat(AuthGrpc.getUserAddMethod().getFullMethodName()).isEqualTo("etcdserverpb.Auth/UserAdd");
    assertThat(ClusterGrpc.getMemberPromoteMethod().getFullMethodName())
        .isEqualTo("etcdserverpb.Cluster/MemberPromote");
    assertThat(ElectionGrpc.getObserveMethod().getFullMethodName())
        .isEqualTo("v3electionpb.Election/Observe");
    assertThat(ElectionGrpc.getObserveMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
    assertThat(LockGrpc.getUnlockMethod().getFullMethodName()).isEqualTo("v3lockpb.Lock/Unlock");
  }

  @Test
  void services_haveExactlyEtcdsMethods() {
    Map<String, List<String>> methods = Rpc.getDescriptor().getServices().stream()
        .collect(Collectors.toMap(ServiceDescriptor::getFullName,
            s -> s.getMethods().stream().map(m -> m.getName()).toList()));

    assertThat(methods).containsOnly(
        Map.entry("etcdserverpb.KV", List.of("Range", "Put", "DeleteRange", "Txn", "Compact")),
        Map.entry("etcdserverpb.Watch", List.of("Watch")),
        Map.entry("etcdserverpb.Lease",
            List.of("LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases")),
        Map.entry("etcdserverpb.Cluster",
            List.of("MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote")),
        Map.entry("etcdserverpb.Maintenance",
            List.of("Alarm", "Status", "Defragment", "Hash", "HashKV", "Snapshot", "MoveLeader")),
        Map.entry("etcdserverpb.Auth", List.of("AuthEnable", "AuthDisable", "Authenticate",
            "UserAdd", "UserGet", "UserList", "UserDelete", "UserChangePassword", "UserGrantRole",
            "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList", "RoleDelete", "RoleGrantPermission",
            "RoleRevokePermission")));
  }
}
