package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Recorder.bytes;
import static io.kvorum.tests.differential.Scenario.single;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCancelRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest.FilterType;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchProgressRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * Watch streams: creation, events with and without prev_kv and filters, history and compaction,
 * progress requests, cancellation, many watches on one stream, fragmentation. Writes happen one
 * at a time, each followed by waiting for its events, so message boundaries are deterministic.
 */
final class WatchScenarios {
  private WatchScenarios() {}

  static WatchRequest create(WatchCreateRequest.Builder w) {
    return WatchRequest.newBuilder().setCreateRequest(w).build();
  }

  static WatchCreateRequest.Builder on(Recorder c, String key) {
    return WatchCreateRequest.newBuilder().setKey(c.key(key));
  }

  static WatchCreateRequest.Builder on(Recorder c, String from, String to) {
    return WatchCreateRequest.newBuilder().setKey(c.key(from)).setRangeEnd(c.key(to));
  }

  static WatchRequest cancel(long id) {
    return WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(id)).build();
  }

  /** Watch responses of one revision for several watchers: in watch id order. */
  static final java.util.Comparator<WatchResponse> BY_WATCH_ID = java.util.Comparator.comparingLong(
      WatchResponse::getWatchId);

  /** Created responses first (by watch id), then the others by watch id. */
  static final java.util.Comparator<WatchResponse> CREATED_FIRST = java.util.Comparator
      .comparing((WatchResponse r) -> !r.getCreated()).thenComparingLong(WatchResponse::getWatchId);

  /** Records responses until {@code events} events arrived (or nothing more comes). */
  static void awaitEvents(Recorder.RecordedStream<WatchRequest, WatchResponse> w, int events)
      throws InterruptedException {
    int seen = 0;
    while (seen < events) {
      List<WatchResponse> got = w.await(1);
      if (got.isEmpty()) {
        return;
      }
      seen += got.get(0).getEventsCount();
    }
  }

  static WatchRequest progress() {
    return WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build();
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("watch a key: create, put, delete, cancel", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "k")));
      w.await(1);
      c.put("k", "v1");
      w.await(1);
      c.put("other", "x");
      c.put("k", "v2");
      w.await(1);
      KvScenarios.delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("k")));
      w.await(1);
      w.send(cancel(0));
      w.await(1);
      c.put("k", "v3");
      w.quiet();
      w.finish();
    }));
    s.add(single("watch a range with prev_kv and each filter", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "a", "m").setPrevKv(true)));
      w.await(1);
      w.send(create(on(c, "a", "m").addFilters(FilterType.NOPUT)));
      w.await(1);
      w.send(create(on(c, "a", "m").addFilters(FilterType.NODELETE)));
      w.await(1);
      w.send(create(on(c, "a", "m").addFilters(FilterType.NOPUT).addFilters(FilterType.NODELETE)));
      w.await(1);
      c.put("b", "1");
      w.await(2, BY_WATCH_ID);
      c.put("b", "2");
      w.await(2, BY_WATCH_ID);
      KvScenarios.delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("b")));
      w.await(2, BY_WATCH_ID);
      c.put("z", "outside");
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: a txn's events arrive in one response", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "a", "z").setPrevKv(true)));
      w.await(1);
      c.put("c", "0");
      w.await(1);
      TxnScenarios.txn(c, TxnRequest.newBuilder().addSuccess(TxnScenarios.put(c, "a", "1"))
          .addSuccess(TxnScenarios.put(c, "b", "2")).addSuccess(TxnScenarios.delete(c, "c", null)));
      w.await(1);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch from past revisions, the current one and the future", c -> {
      long base = KvScenarios.fill(c);
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "a", "z").setStartRevision(base - 5)));
      w.await(2);
      w.send(create(on(c, "d").setStartRevision(base).setPrevKv(true)));
      w.await(2);
      w.send(create(on(c, "a", "z").setStartRevision(base + 2)));
      w.await(1);
      c.put("a", "next");
      w.await(1);
      c.put("b", "future");
      w.await(2, BY_WATCH_ID);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch from a compacted revision", c -> {
      long base = KvScenarios.fill(c);
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base - 2).build());
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "a", "z").setStartRevision(base - 4)));
      w.await(2);
      w.send(create(on(c, "a", "z").setStartRevision(base - 2)));
      w.await(2);
      w.send(create(on(c, "a", "z").setStartRevision(1)));
      w.await(2);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: progress requests, idle and after events", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(progress());
      w.await(1);
      w.send(create(on(c, "k")));
      w.await(1);
      w.send(progress());
      w.await(1);
      c.put("k", "v");
      w.await(1);
      c.put("other", "v");
      w.send(progress());
      w.await(1);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: cancel unknown ids, cancel twice, empty and odd requests", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(cancel(7));
      w.send(cancel(-1));
      w.quiet();
      w.send(WatchRequest.getDefaultInstance());
      w.quiet();
      w.send(create(on(c, "k")));
      w.await(1);
      w.send(cancel(0));
      w.await(1);
      w.send(cancel(0));
      w.quiet();
      w.send(create(WatchCreateRequest.newBuilder()));
      w.await(1);
      w.send(create(on(c, "k").setRangeEnd(ByteString.copyFrom(new byte[] {0}))));
      w.await(1);
      w.send(create(on(c, "z", "a")));
      w.await(1);
      c.put("k", "v");
      w.await(1);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: many watches on one stream, explicit and duplicate ids", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      for (int i = 0; i < 20; i++) {
        w.send(create(on(c, "k" + (i % 5))));
      }
      w.await(20);
      w.send(create(on(c, "k0").setWatchId(100)));
      w.await(1);
      w.send(create(on(c, "k0").setWatchId(100)));
      w.await(1);
      w.send(create(on(c, "k0").setWatchId(3)));
      w.await(1);
      w.send(create(on(c, "k1")));
      w.await(1);
      w.send(create(on(c, "k1").setWatchId(-5)));
      w.await(1);
      c.put("k0", "v");
      w.await(5, BY_WATCH_ID);
      w.send(cancel(100));
      w.await(1);
      w.send(create(on(c, "k0").setWatchId(100)));
      w.await(1);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: two streams see the same events", c -> {
      var a = c.stream(WatchGrpc.getWatchMethod());
      var b = c.stream(WatchGrpc.getWatchMethod());
      a.send(create(on(c, "k")));
      a.await(1);
      b.send(create(on(c, "k").setPrevKv(true)));
      b.await(1);
      c.put("k", "1");
      a.await(1);
      b.await(1);
      // A half-closed watch stream goes on delivering (etcd's, and Kvorum's).
      a.halfClose();
      c.put("k", "2");
      a.await(1);
      b.await(1);
      a.cancel();
      b.cancel();
    }));
    s.add(single("watch: fragment splits a large response under --max-request-bytes", c -> {
      long start = c.revision() + 1;
      byte[] value = new byte[900];
      for (int i = 0; i < 30; i++) {
        KvScenarios.put(c, PutRequest.newBuilder().setKey(c.key(String.format("k%02d", i))).setValue(
            ByteString.copyFrom(value)));
      }
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "k", "l").setStartRevision(start).setFragment(true)));
      w.await(1);
      awaitEvents(w, 30);
      w.quiet();
      w.send(create(on(c, "k", "l").setStartRevision(start)));
      w.await(1);
      awaitEvents(w, 30);
      w.send(create(on(c, "k", "l").setStartRevision(start).setFragment(true).setPrevKv(true)));
      w.await(1);
      awaitEvents(w, 30);
      w.quiet();
      // One event larger than the limit alone is never split.
      w.send(create(on(c, "big").setFragment(true)));
      w.await(1);
      KvScenarios.put(c, PutRequest.newBuilder().setKey(c.key("big")).setValue(ByteString.copyFrom(new byte[9000])));
      KvScenarios.put(c, PutRequest.newBuilder().setKey(c.key("big")).setValue(bytes("small")));
      w.await(2);
      w.quiet();
      w.cancel();
    }));
    s.add(single("watch: progress notifications to idle watchers that asked for them", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      c.put("other", "v");
      // Two watchers, one asking for notifications: the two created responses and, within one
      // interval (1 s), one notification for the first; when the notification comes relative to
      // the second created response is timing, so the three are compared created-first.
      w.send(create(on(c, "k").setProgressNotify(true)));
      w.send(create(on(c, "j")));
      w.await(3, CREATED_FIRST);
      w.send(cancel(0));
      w.send(cancel(1));
      w.await(2, BY_WATCH_ID);
      w.cancel();
    }));
    s.add(single("watch: negative start revision, everything from \\0, unknown filter", c -> {
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(create(on(c, "k").setStartRevision(-5)));
      w.await(2);
      w.send(create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFrom(new byte[] {0}))
          .setRangeEnd(ByteString.copyFrom(new byte[] {0})).setPrevKv(true)));
      w.await(1);
      w.send(create(on(c, "k").addFiltersValue(7)));
      w.await(1);
      c.put("k", "v");
      w.await(2, BY_WATCH_ID);
      w.quiet();
      w.cancel();
    }));
    return s;
  }
}
