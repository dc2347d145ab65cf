package io.kvorum.server.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.Compare.CompareResult;
import io.kvorum.proto.etcdserverpb.Compare.CompareTarget;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.KvStoreConfig;
import io.kvorum.server.mvcc.WriteTxn;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KvApplier#txn} as etcd's applier runs it: decided and checked before anything is written. */
class KvApplierTxnTest {
  @TempDir Path dir;
  private Backend backend;
  private KvStore store;
  private long index;
  private final KvApplier applier = new KvApplier(lease -> lease == 7);

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    Executor inline = Runnable::run;
    store = KvStore.open(backend, KvStoreConfig.DEFAULT, inline);
  }

  @AfterEach
  void close() {
    store.close();
    backend.close();
  }

  static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static RequestOp put(String k, String v) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(k)).setValue(b(v))).build();
  }

  static RequestOp get(String k, long rev) {
    return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b(k)).setRevision(rev)).build();
  }

  /** Applies {@code t} as one entry, committing what it wrote; the store's revision afterwards. */
  private TxnResponse apply(TxnRequest t) {
    try (WriteTxn w = store.write(new ConsistentIndex(++index, 1))) {
      TxnResponse r = applier.txn(w, t);
      w.end();
      return r;
    }
  }

  @Test
  void txn_readAtAFutureRevisionAfterAPut_failsBeforeWriting_andTheStoreGoesOn() {
    // Found by the differential suite: the put was applied, the read then threw, and the
    // half-written transaction stopped the member.
    long rev = store.currentRevision();
    assertThatThrownBy(() -> apply(TxnRequest.newBuilder().addSuccess(put("a", "1")).addSuccess(get("a", rev + 1))
        .build())).isInstanceOfSatisfying(EtcdException.class, e -> assertThat(e.error()).isEqualTo(EtcdError.FUTURE_REV));
    assertThat(store.currentRevision()).isEqualTo(rev);
    TxnResponse ok = apply(TxnRequest.newBuilder().addSuccess(put("a", "2")).build());
    assertThat(ok.getSucceeded()).isTrue();
    assertThat(store.currentRevision()).isEqualTo(rev + 1);
  }

  @Test
  void txn_putsWithIgnoreValueOfAMissingKeyOrAnUnknownLease_failBeforeWriting() {
    long rev = store.currentRevision();
    RequestOp ignore = RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("missing"))
        .setIgnoreValue(true)).build();
    assertThatThrownBy(() -> apply(TxnRequest.newBuilder().addSuccess(put("a", "1")).addSuccess(ignore).build()))
        .isInstanceOfSatisfying(EtcdException.class, e -> assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND));
    RequestOp leased = RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("b")).setLease(8)).build();
    assertThatThrownBy(() -> apply(TxnRequest.newBuilder().addSuccess(put("a", "1")).addSuccess(leased).build()))
        .isInstanceOfSatisfying(EtcdException.class, e -> assertThat(e.error()).isEqualTo(EtcdError.LEASE_NOT_FOUND));
    assertThat(store.currentRevision()).isEqualTo(rev);
  }

  @Test
  void txn_nestedCompares_seeTheStateBeforeTheTxn() {
    apply(TxnRequest.newBuilder().addSuccess(put("a", "1")).build());
    // The nested compare asks whether "a" is still at version 1: it is, before the outer put.
    TxnRequest nested = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("a")).setTarget(CompareTarget.VERSION)
            .setResult(CompareResult.EQUAL).setVersion(1))
        .addSuccess(put("b", "then")).addFailure(put("b", "else")).build();
    TxnResponse r = apply(TxnRequest.newBuilder().addSuccess(put("a", "2"))
        .addSuccess(RequestOp.newBuilder().setRequestTxn(nested)).build());
    assertThat(r.getResponses(1).getResponseTxn().getSucceeded()).isTrue();
  }

  @Test
  void txn_nestedResponses_carryEtcdsHeaders() {
    long begin = store.currentRevision();
    apply(TxnRequest.newBuilder().addSuccess(put("x", "0")).build());
    TxnResponse r = apply(TxnRequest.newBuilder()
        .addSuccess(get("x", 0))
        .addSuccess(put("p", "1"))
        .addSuccess(get("p", 0))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("none"))))
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(get("p", 0))))
        .build());
    long txnRev = begin + 2;
    assertThat(r.getResponses(0).getResponseRange().getHeader()).as("a read before any write: the old revision")
        .isEqualTo(ResponseHeader.newBuilder().setRevision(txnRev - 1).build());
    assertThat(r.getResponses(1).getResponsePut().getHeader().getRevision()).isEqualTo(txnRev);
    assertThat(r.getResponses(2).getResponseRange().getHeader().getRevision()).isEqualTo(txnRev);
    assertThat(r.getResponses(3).getResponseDeleteRange().getHeader().getRevision())
        .as("nothing deleted, but the txn changed something").isEqualTo(txnRev);
    assertThat(r.getResponses(4).getResponseTxn().hasHeader()).isTrue();
    assertThat(r.getResponses(4).getResponseTxn().getHeader()).isEqualTo(ResponseHeader.getDefaultInstance());
    assertThat(r.getResponses(4).getResponseTxn().getResponses(0).getResponseRange().getHeader().getRevision())
        .isEqualTo(txnRev);
  }

  @Test
  void txn_compareWithAResultEtcdDoesNotKnow_holds() {
    TxnResponse r = apply(TxnRequest.newBuilder().addCompare(Compare.newBuilder().setKey(b("a"))
        .setTarget(CompareTarget.VERSION).setResultValue(9).setVersion(5)).build());
    assertThat(r.getSucceeded()).isTrue();
  }
}
