package io.kvorum.server.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
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
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.RequestHeader;
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
  @TempDir Path dir;
  private Backend backend;
  private KvStore store;
  private long index;
  private final Map<Long, Object> results = new HashMap<>();
  private final Map<Long, EtcdError> errors = new HashMap<>();
  private boolean corrupt;
  private boolean noSpace;
  private ApplierChain chain;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    Executor inline = Runnable::run;
    store = KvStore.open(backend, KvStoreConfig.DEFAULT, inline);
    Lessor lessor = new Lessor(1, () -> 0L, 0);
    Alarms alarms = new Alarms() {
      @Override
      public boolean corrupt() {
        return corrupt;
      }

      @Override
      public boolean noSpace() {
        return noSpace;
      }
    };
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
    chain = new ApplierChain(store, lessor, new AuthStore(backend, new SimpleTokens(new FakeClock(), Duration.ZERO)), alarms, rev -> ResponseHeader.newBuilder().setRevision(rev).build(),
        (ctx, a) -> { }, sink);
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

  @Test
  void noSpaceAlarm_refusesPutsTxnsThatPutAndGrants_butLetsDeletesAndReadOnlyTxnsThrough() {
    apply(1, put("a"));
    noSpace = true;
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
  void corruptAlarm_refusesEveryKvAndLeaseRequest() {
    corrupt = true;
    apply(1, put("a"));
    apply(2, InternalRaftRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a"))));
    apply(3, InternalRaftRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(5).setTTL(10)));
    assertThat(errors).containsOnlyKeys(1L, 2L, 3L).containsValue(EtcdError.CORRUPT).doesNotContainValue(EtcdError.NO_SPACE);
    assertThat(store.currentRevision()).isEqualTo(1);
  }

  @Test
  void anEntryThatCannotBeDecoded_stopsTheMember() {
    assertThatThrownBy(() -> chain.apply(new ConsistentIndex(1, 1), new byte[] {(byte) 0xff, (byte) 0xff}))
        .isInstanceOf(ApplierChain.UnappliableEntryException.class).hasMessageContaining("entry 1");
  }

  @Test
  void aRequestTypeThisMemberDoesNotApply_stopsTheMember_insteadOfBeingAcknowledged() {
    assertThatThrownBy(() -> apply(9, InternalRaftRequest.newBuilder().setAlarm(AlarmRequest.getDefaultInstance())))
        .isInstanceOf(ApplierChain.UnappliableEntryException.class).hasMessageContaining("ALARM");
    assertThat(results).doesNotContainKey(9L);
  }
}
