package io.kvorum.server.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmRequest.AlarmAction;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.ClusterVersionSet;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.server.alarm.AlarmStore;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.auth.SimpleTokens;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.KvStoreConfig;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The applier chain on a real store: typed results reach the proposer's waiter by request id,
 * state errors come back as etcd's errors, the alarm link refuses what etcd's corrupt and capped
 * appliers refuse, and an entry the member cannot apply stops it instead of being acknowledged.
 */
class ApplierChainTest {
  private static final long QUOTA_BYTES = 1000;
  @TempDir Path dir;
  private Backend backend;
  private KvStore store;
  private long index;
  private final Map<Long, Object> results = new HashMap<>();
  private final Map<Long, EtcdError> errors = new HashMap<>();
  private long sizeBytes;
  private AlarmStore alarms;
  private ApplierChain chain;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    Executor inline = Runnable::run;
    store = KvStore.open(backend, KvStoreConfig.DEFAULT, inline);
    Lessor lessor = new Lessor(1, () -> 0L, 0);
    alarms = new AlarmStore(backend);
    ApplierChain.Results sink = new ApplierChain.Results() {
      @Override
      public void complete(long requestId, Object result) {
        results.put(requestId, result);
      }

      @Override
      public void fail(long requestId, EtcdException error) {
        errors.put(requestId, error.error());
      }
    };
    chain = new ApplierChain(store, lessor, new AuthStore(backend, new SimpleTokens(new FakeClock(), Duration.ZERO)),
        alarms, new BackendQuota(QUOTA_BYTES, () -> sizeBytes),
        rev -> ResponseHeader.newBuilder().setRevision(rev).build(), (ctx, a) -> { }, sink);
  }

  @AfterEach
  void close() {
    store.close();
    backend.close();
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private void apply(long id, InternalRaftRequest.Builder req) {
    index++;
    chain.apply(new ConsistentIndex(index, 1), req.setHeader(RequestHeader.newBuilder().setId(id)).build().toByteArray());
  }

  private static InternalRaftRequest.Builder put(String k) {
    return InternalRaftRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(b(k)).setValue(b("v")));
  }

  @Test
  void put_reachesItsWaiter_asATypedResponse_withTheRevisionInItsHeader() {
    apply(11, put("a"));
    apply(12, put("b"));
    assertThat(results.get(11L)).isInstanceOf(PutResponse.class);
    assertThat(((PutResponse) results.get(12L)).getHeader().getRevision()).isEqualTo(3);
    assertThat(errors).isEmpty();
  }

  @Test
  void stateErrors_areEtcdErrors_forTheirWaiter_andChangeNothing() {
    apply(1, InternalRaftRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(b("a")).setLease(99)));
    apply(2, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    apply(3, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    assertThat(errors).containsEntry(1L, EtcdError.LEASE_NOT_FOUND).containsEntry(3L, EtcdError.LEASE_EXIST);
    assertThat(results.get(2L)).isInstanceOf(LeaseGrantResponse.class);
    assertThat(store.currentRevision()).isEqualTo(1);
  }

  private static InternalRaftRequest.Builder alarm(AlarmAction action, long member, AlarmType type) {
    return InternalRaftRequest.newBuilder().setAlarm(AlarmRequest.newBuilder().setAction(action).setMemberID(member)
        .setAlarm(type));
  }

  @Test
  void noSpaceAlarm_refusesPutsTxnsThatPutAndGrants_butLetsDeletesAndReadOnlyTxnsThrough() {
    apply(1, put("a"));
    apply(100, alarm(AlarmAction.ACTIVATE, 7, AlarmType.NOSPACE));
    apply(2, put("b"));
    apply(3, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addFailure(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c"))))));
    apply(4, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    apply(5, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a"))))));
    apply(6, InternalRaftRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a"))));
    assertThat(errors).containsEntry(2L, EtcdError.NO_SPACE).containsEntry(3L, EtcdError.NO_SPACE)
        .containsEntry(4L, EtcdError.NO_SPACE).hasSize(3);
    assertThat(((TxnResponse) results.get(5L)).getResponses(0).getResponseRange().getCount()).isEqualTo(1);
    assertThat(store.currentRevision()).as("only the delete wrote").isEqualTo(3);
  }

  @Test
  void corruptAlarm_refusesEveryKvAndLeaseRequest_butReadOnlyTxnsAndAlarms() {
    apply(100, alarm(AlarmAction.ACTIVATE, 0, AlarmType.CORRUPT));
    apply(101, alarm(AlarmAction.ACTIVATE, 7, AlarmType.NOSPACE));
    apply(1, put("a"));
    apply(2, InternalRaftRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a"))));
    apply(3, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    apply(4, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a"))))));
    apply(5, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a"))))));
    apply(7, InternalRaftRequest.newBuilder().setLeaseExpire(LeaseExpire.newBuilder().addIds(5)));
    assertThat(errors).containsOnlyKeys(1L, 2L, 3L, 4L, 7L).containsValue(EtcdError.CORRUPT)
        .doesNotContainValue(EtcdError.NO_SPACE);
    assertThat(store.currentRevision()).isEqualTo(1);
    apply(102, alarm(AlarmAction.DEACTIVATE, 0, AlarmType.CORRUPT));
    apply(103, alarm(AlarmAction.DEACTIVATE, 7, AlarmType.NOSPACE));
    apply(6, put("a"));
    assertThat(results.get(6L)).isInstanceOf(PutResponse.class);
  }

  @Test
  void alarm_getActivateDeactivate_asEtcdAnswersThem() {
    apply(1, alarm(AlarmAction.ACTIVATE, 7, AlarmType.NOSPACE));
    apply(2, alarm(AlarmAction.ACTIVATE, 7, AlarmType.NOSPACE));
    apply(3, alarm(AlarmAction.ACTIVATE, 0, AlarmType.CORRUPT));
    apply(4, alarm(AlarmAction.GET, 0, AlarmType.NONE));
    apply(5, alarm(AlarmAction.GET, 0, AlarmType.NOSPACE));
    apply(6, alarm(AlarmAction.DEACTIVATE, 8, AlarmType.NOSPACE));
    apply(7, alarm(AlarmAction.DEACTIVATE, 7, AlarmType.NOSPACE));
    AlarmMember noSpace = AlarmMember.newBuilder().setMemberID(7).setAlarm(AlarmType.NOSPACE).build();
    AlarmMember corrupt = AlarmMember.newBuilder().setAlarm(AlarmType.CORRUPT).build();
    assertThat(((AlarmResponse) results.get(1L)).getAlarmsList()).containsExactly(noSpace);
    assertThat(((AlarmResponse) results.get(2L)).getAlarmsList()).as("raised already").containsExactly(noSpace);
    assertThat(((AlarmResponse) results.get(4L)).getAlarmsList()).containsExactly(noSpace, corrupt);
    assertThat(((AlarmResponse) results.get(5L)).getAlarmsList()).containsExactly(noSpace);
    assertThat(((AlarmResponse) results.get(6L)).getAlarmsList()).as("not raised").isEmpty();
    assertThat(((AlarmResponse) results.get(7L)).getAlarmsList()).containsExactly(noSpace);
    assertThat(((AlarmResponse) results.get(7L)).hasHeader()).isFalse();
    assertThat(alarms.all()).containsExactly(corrupt);
    assertThat(new AlarmStore(backend).all()).as("persisted").containsExactly(corrupt);
  }

  @Test
  void quota_aWriteOverTheQuota_isAppliedThenAnsweredNoSpace_asEtcdsQuotaApplier() {
    long putCost = BackendQuota.PUT_OVERHEAD_BYTES + 2;
    sizeBytes = QUOTA_BYTES - putCost - 1;
    apply(1, put("a"));
    sizeBytes = QUOTA_BYTES - putCost;
    apply(2, put("b"));
    apply(3, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a"))))
        .addFailure(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c")).setValue(b("v"))))));
    apply(4, InternalRaftRequest.newBuilder().setTxn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a"))))));
    apply(5, InternalRaftRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a"))));
    sizeBytes = QUOTA_BYTES - BackendQuota.LEASE_GRANT_COST_BYTES;
    apply(6, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    assertThat(results.get(1L)).as("fits with one byte to spare").isInstanceOf(PutResponse.class);
    assertThat(errors).containsEntry(2L, EtcdError.NO_SPACE).as("the larger branch counts, not the one taken")
        .containsEntry(3L, EtcdError.NO_SPACE).containsEntry(6L, EtcdError.NO_SPACE).hasSize(3);
    assertThat(results).containsKeys(4L, 5L);
    assertThat(store.currentRevision()).as("the puts over the quota applied all the same").isEqualTo(4);
    assertThat(alarms.all()).as("the member raises the alarm, not the chain").isEmpty();
  }

  @Test
  void anEntryThatCannotBeDecoded_stopsTheMember() {
    assertThatThrownBy(() -> chain.apply(new ConsistentIndex(1, 1), new byte[] {(byte) 0xff, (byte) 0xff}))
        .isInstanceOf(ApplierChain.UnappliableEntryException.class).hasMessageContaining("entry 1");
  }

  @Test
  void aRequestTypeThisMemberDoesNotApply_stopsTheMember_insteadOfBeingAcknowledged() {
    // What a newer version's request of an unknown kind decodes to: only the header.
    assertThatThrownBy(() -> apply(9, InternalRaftRequest.newBuilder()))
        .isInstanceOf(ApplierChain.UnappliableEntryException.class).hasMessageContaining("REQUEST_NOT_SET");
    assertThat(results).doesNotContainKey(9L);
  }

  @Test
  void clusterVersionAndRangeEntries_carriedOverFromEtcd_applyAsNoOps() {
    long rev = store.currentRevision();
    apply(10, InternalRaftRequest.newBuilder().setClusterVersion(ClusterVersionSet.newBuilder().setVersion("3.4.0")));
    apply(11, InternalRaftRequest.newBuilder().setRange(io.kvorum.proto.etcdserverpb.RangeRequest.newBuilder()
        .setKey(com.google.protobuf.ByteString.copyFromUtf8("a"))));
    assertThat(results).doesNotContainKeys(10L, 11L);
    assertThat(errors).doesNotContainKeys(10L, 11L);
    assertThat(store.currentRevision()).isEqualTo(rev);
  }

}
