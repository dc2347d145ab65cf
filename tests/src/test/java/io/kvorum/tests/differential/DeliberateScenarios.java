package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.deliberate;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.MemberAddResponse;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberRemoveRequest;
import io.kvorum.proto.etcdserverpb.MemberUpdateRequest;
import io.kvorum.proto.etcdserverpb.MemberUpdateResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Where Kvorum differs from etcd 3.4.23 on purpose (the README lists each): checked against
 * Kvorum's documented behaviour instead of etcd's.
 *
 * <p>The README's other differences cannot be told apart by one request sequence against a fresh
 * member, so they are checked where they can be provoked: lease checkpoints on by default and
 * persisted ({@code LeaseClusterTest.checkpointedTtl_survivesALeaderChange_insteadOfResetting},
 * {@code leasesTheirKeysAndCheckpoints_surviveARestartOfEveryMember}); expired leases revoked 250
 * per entry ({@code LessorTest}, {@code LeaseClusterTest}); a progress response only once every
 * watcher was sent everything (the catalogue's progress scenarios compare it with etcd at rest, and
 * {@code WatchHubModelTest} under load); snapshots shipped as RocksDB content and the membership
 * kept in the backend ({@code MembershipTest}); an unexpected failure answered with a fixed text
 * ({@code GrpcErrorsTest}).
 */
final class DeliberateScenarios {
  private DeliberateScenarios() {}

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(deliberate("range sorted by an unknown target",
        "A range that must sort by a target etcd does not know gets `etcdserver: invalid sort option`", c -> {
          KvScenarios.fill(c);
          for (int order : new int[] {0, 1, 2}) {
            assertThat(c.call(KVGrpc.getRangeMethod(), KvScenarios.range(c, "a", "z").setSortOrderValue(order)
                .setSortTargetValue(9).build())).isNull();
            assertThat(c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder()
                .setRequestRange(KvScenarios.range(c, "a", "z").setSortOrderValue(order).setSortTargetValue(9)))
                .build())).isNull();
          }
          for (Exchange x : c.log) {
            if (x.kind() == Exchange.Kind.ERROR) {
              assertThat(x.status().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
              assertThat(x.status().getDescription()).isEqualTo("etcdserver: invalid sort option");
            }
          }
          // The member is still there.
          assertThat(c.get("a")).isNotNull();
        }));
    s.add(deliberate("member update with a malformed peer URL",
        "A member update with a peer URL etcd's member add would refuse gets `etcdserver: given member URLs are "
            + "invalid`", c -> {
          var before = c.call(ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance());
          for (List<String> urls : List.of(List.of("not a url"), List.of("http://127.0.0.1:1/path"), List.<String>of(),
              List.of("http://127.0.0.1"))) {
            assertThat(c.call(ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder()
                .setID(c.side.memberId(0)).addAllPeerURLs(urls).build())).isNull();
            Exchange x = c.log.get(c.log.size() - 1);
            assertThat(x.status().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
            assertThat(x.status().getDescription()).isEqualTo("etcdserver: given member URLs are invalid");
          }
          assertThat(c.call(ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance()))
              .isEqualTo(before);
        }));
    s.add(deliberate("a learner's peer URL update keeps it a learner",
        "A member update of a learner keeps it a learner", c -> {
          MemberAddResponse added = c.call(ClusterGrpc.getMemberAddMethod(), MemberAddRequest.newBuilder()
              .addPeerURLs("http://127.0.0.1:1").setIsLearner(true).build());
          assertThat(added).isNotNull();
          long id = added.getMember().getID();
          MemberUpdateResponse updated = c.call(ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder()
              .setID(id).addPeerURLs("http://127.0.0.1:3").build());
          assertThat(updated.getMembersList()).filteredOn(m -> m.getID() == id).singleElement()
              .satisfies(m -> {
                assertThat(m.getIsLearner()).isTrue();
                assertThat(m.getPeerURLsList()).containsExactly("http://127.0.0.1:3");
              });
          // Still a learner to raft and to the membership alike: promotion is refused only for lack of sync.
          assertThat(c.call(ClusterGrpc.getMemberPromoteMethod(), MemberPromoteRequest.newBuilder().setID(id).build()))
              .isNull();
          assertThat(c.log.get(c.log.size() - 1).status().getDescription())
              .isEqualTo("etcdserver: can only promote a learner member which is in sync with leader");
          assertThat(c.call(ClusterGrpc.getMemberRemoveMethod(), MemberRemoveRequest.newBuilder().setID(id).build()))
              .isNotNull();
        }));
    s.add(deliberate("alarm request with an unknown action",
        "An `Alarm` request with an action etcd 3.4 does not know gets an empty answer", c -> {
          var answer = c.call(io.kvorum.proto.etcdserverpb.MaintenanceGrpc.getAlarmMethod(),
              io.kvorum.proto.etcdserverpb.AlarmRequest.newBuilder().setActionValue(5)
                  .setAlarm(io.kvorum.proto.etcdserverpb.AlarmType.NOSPACE).build());
          assertThat(answer).isEqualTo(io.kvorum.proto.etcdserverpb.AlarmResponse.getDefaultInstance());
          // Nothing was raised, and the member is still there.
          assertThat(c.call(io.kvorum.proto.etcdserverpb.MaintenanceGrpc.getAlarmMethod(),
              io.kvorum.proto.etcdserverpb.AlarmRequest.getDefaultInstance()).getAlarmsList()).isEmpty();
          assertThat(c.get("a")).isNotNull();
        }));
    return s;
  }
}
