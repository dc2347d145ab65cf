package io.kvorum.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub's timed and compaction behaviour on a fake clock. */
class WatchHubTest {
  static final long S = 1_000_000_000L;
  @TempDir Path dir;
  final AtomicLong clock = new AtomicLong(0);
  Backend backend;
  KvStore kv;
  WatchHub hub;
  long index = 1;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    kv = KvStore.open(backend);
    hub = new WatchHub(kv, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 1 << 20, clock::get,
        10 * S).start();
  }

  @AfterEach
  void close() {
    hub.close();
    kv.close();
    backend.close();
  }

  private long put(String k) {
    return kv.put(ByteString.copyFromUtf8(k), ByteString.copyFromUtf8("v"), 0, new ConsistentIndex(index++, 1));
  }

  private static List<WatchResponse> poll(WatchStream ws, int n) {
    List<WatchResponse> out = new ArrayList<>();
    LocalCluster.await(n + " responses", () -> {
      out.addAll(ws.poll());
      return out.size() >= n;
    });
    return out;
  }

  @Test
  void progressNotify_tellsAnIdleSyncedWatcherTheRevision_onlyWhenItHeardNothing() {
    WatchStream ws = hub.openStream();
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("a")).setProgressNotify(true).build());
    // Always idle: its notification marks each tick of the hub's progress clock.
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("b")).setProgressNotify(true).build());
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("c")).build());
    assertThat(poll(ws, 3)).allMatch(WatchResponse::getCreated);
    long rev = put("z");
    clock.addAndGet(10 * S);
    List<WatchResponse> first = poll(ws, 2);
    assertThat(first).extracting(WatchResponse::getWatchId).containsExactlyInAnyOrder(0L, 1L);
    assertThat(first).allSatisfy(p -> {
      assertThat(p.getEventsCount()).isZero();
      assertThat(p.getHeader().getRevision()).isEqualTo(rev);
    });
    // An event during the interval elides the watcher's next notification.
    put("a");
    assertThat(poll(ws, 1).get(0).getEventsCount()).isEqualTo(1);
    clock.addAndGet(10 * S);
    assertThat(poll(ws, 1)).extracting(WatchResponse::getWatchId).containsExactly(1L);
    put("c");
    assertThat(poll(ws, 1).get(0).getWatchId()).isEqualTo(2L);
    clock.addAndGet(10 * S);
    List<WatchResponse> third = poll(ws, 2);
    assertThat(third).extracting(WatchResponse::getWatchId).containsExactlyInAnyOrder(0L, 1L);
    assertThat(third).allSatisfy(p -> assertThat(p.getHeader().getRevision()).isEqualTo(rev + 2));
  }

  @Test
  void watcherFromACompactedRevision_isCreatedThenCanceledWithTheCompactRevision() {
    for (int i = 0; i < 5; i++) {
      put("k" + i);
    }
    kv.compact(4, new ConsistentIndex(index++, 1));
    WatchStream ws = hub.openStream();
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setRangeEnd(ByteString.copyFromUtf8("l"))
        .setStartRevision(2).build());
    List<WatchResponse> rs = poll(ws, 2);
    assertThat(rs.get(0).getCreated()).isTrue();
    assertThat(rs.get(1).getCanceled()).isTrue();
    assertThat(rs.get(1).getCompactRevision()).isEqualTo(4);
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setRangeEnd(ByteString.copyFromUtf8("l"))
        .setStartRevision(5).build());
    // Caught up from history in one response, headed with the current revision (etcd's syncWatchers).
    rs = poll(ws, 2);
    assertThat(rs.get(1).getEventsList()).extracting(e -> e.getKv().getKey().toStringUtf8())
        .containsExactly("k3", "k4");
    assertThat(rs.get(1).getHeader().getRevision()).isEqualTo(6);
  }
}
