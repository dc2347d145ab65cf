package io.kvorum.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's bounds filled: {@link WatchHub#WATCHERS_PER_STREAM_MAX} (a create beyond it is refused
 * as etcd refuses a create) and {@link WatchHub#REVISION_QUEUE_MAX} (revisions beyond it are
 * dropped and the watchers catch up from the store, missing nothing).
 */
class WatchHubBoundsTest {
  static final int WATCHERS_MAX = 5;
  @TempDir Path dir;
  Backend backend;
  KvStore kv;
  WatchHub hub;
  long index = 1;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    kv = KvStore.open(backend);
    hub = new WatchHub(kv, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 1 << 20, () -> 0, 0,
        WatchHub.STREAM_EVENT_SLOTS, WATCHERS_MAX).start();
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

  private static WatchCreateRequest watch(String key) {
    return WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build();
  }

  @Test
  void create_streamHoldsWatchersPerStreamMax_isRefusedUntilOneIsCanceled() {
    assertThat(WatchHub.WATCHERS_PER_STREAM_MAX).isEqualTo(10_000);
    WatchStream ws = hub.openStream();
    for (int i = 0; i < WATCHERS_MAX; i++) {
      ws.create(watch("k" + i));
    }
    assertThat(poll(ws, WATCHERS_MAX)).allSatisfy(r -> {
      assertThat(r.getCreated()).isTrue();
      assertThat(r.getCanceled()).isFalse();
    });
    ws.create(watch("over"));
    WatchResponse refused = poll(ws, 1).get(0);
    // etcd's answer to a create it refuses: created and canceled at once, watch id -1, the reason.
    assertThat(refused.getCreated()).isTrue();
    assertThat(refused.getCanceled()).isTrue();
    assertThat(refused.getWatchId()).isEqualTo(WatchHub.NO_WATCH_ID);
    assertThat(refused.getCancelReason()).isEqualTo("etcdserver: too many watchers on the stream");
    // Another stream has its own allowance.
    WatchStream other = hub.openStream();
    other.create(watch("k0"));
    assertThat(poll(other, 1).get(0).getWatchId()).isZero();
    // A canceled watcher frees its place; the refused create took no watch id.
    ws.cancel(0);
    assertThat(poll(ws, 1).get(0).getCanceled()).isTrue();
    ws.create(watch("again"));
    WatchResponse created = poll(ws, 1).get(0);
    assertThat(created.getCanceled()).isFalse();
    assertThat(created.getWatchId()).isEqualTo(WATCHERS_MAX);
    // The remaining watchers still see their events.
    put("k1");
    assertThat(poll(ws, 1).get(0).getEvents(0).getKv().getKey().toStringUtf8()).isEqualTo("k1");
  }

  @Test
  void onCommitted_hubThreadHeldPastRevisionQueueMax_dropsAndWatchersCatchUpFromTheStore() throws Exception {
    WatchStream ws = hub.openStream();
    ws.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
        .setRangeEnd(ByteString.copyFromUtf8("l")).build());
    assertThat(poll(ws, 1).get(0).getCreated()).isTrue();
    CountDownLatch hold = new CountDownLatch(1);
    CountDownLatch holding = new CountDownLatch(1);
    hub.submit(() -> {
      holding.countDown();
      try {
        hold.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(holding.await(60, TimeUnit.SECONDS)).isTrue();
    int puts = WatchHub.REVISION_QUEUE_MAX + 100;
    long first = 0;
    for (int i = 0; i < puts; i++) {
      long rev = put("k" + i);
      first = i == 0 ? rev : first;
    }
    // The apply thread never waited: what did not fit was dropped.
    assertThat(hub.queuedRevisions()).isEqualTo(WatchHub.REVISION_QUEUE_MAX);
    assertThat(hub.droppedRevisions()).isEqualTo(100);
    hold.countDown();
    List<Long> seen = new ArrayList<>();
    LocalCluster.await("every revision", () -> {
      for (WatchResponse r : ws.poll()) {
        for (Event e : r.getEventsList()) {
          seen.add(e.getKv().getModRevision());
        }
      }
      return seen.size() >= puts;
    });
    List<Long> expected = new ArrayList<>();
    for (int i = 0; i < puts; i++) {
      expected.add(first + i);
    }
    assertThat(seen).containsExactlyElementsOf(expected);
  }
}
