package io.kvorum.server.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The lessor on a fake clock: expiry, renewal, promotion, checkpoints, key attachment. */
class LessorTest {
  static final long S = 1_000_000_000L;
  final AtomicLong now = new AtomicLong(1_000 * S);
  final Lessor lessor = new Lessor(2, now::get, 300 * S);

  private static Event put(String k, long lease) {
    return Event.newBuilder().setType(Event.EventType.PUT)
        .setKv(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8(k)).setLease(lease)).build();
  }

  private static Event del(String k) {
    return Event.newBuilder().setType(Event.EventType.DELETE)
        .setKv(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8(k))).build();
  }

  @Test
  void minTtl_isEtcdsOneAndAHalfElectionTimeoutsRoundedUp() {
    assertThat(Lessor.minTtlSeconds(10, 100)).isEqualTo(2);
    assertThat(Lessor.minTtlSeconds(10, 50)).isEqualTo(1);
    assertThat(Lessor.minTtlSeconds(50, 100)).isEqualTo(8);
    assertThat(lessor.grant(7, 1)).isEqualTo(2);
  }

  @Test
  void leaseExpires_exactlyWhenItsTtlPasses_onTheLeaderOnly() {
    lessor.grant(1, 10);
    now.addAndGet(100 * S);
    assertThat(lessor.expired(10)).isEmpty(); // a follower never expires anything
    lessor.promote(0);
    now.addAndGet(10 * S - 1);
    assertThat(lessor.expired(10)).isEmpty();
    now.addAndGet(1);
    assertThat(lessor.expired(10)).containsExactly(1L);
    // Handed out once; it comes back only after the retry interval if the revoke got lost.
    assertThat(lessor.expired(10)).isEmpty();
    now.addAndGet(Lessor.EXPIRED_RETRY_NANOS);
    assertThat(lessor.expired(10)).containsExactly(1L);
    assertThat(lessor.revoke(1)).isEmpty();
    now.addAndGet(100 * S);
    assertThat(lessor.expired(10)).isEmpty();
  }

  @Test
  void renew_pushesTheDeadline_andReportsTheGrantedTtl() {
    lessor.promote(0);
    lessor.grant(1, 10);
    now.addAndGet(9 * S);
    assertThat(lessor.renew(1)).isEqualTo(new Lessor.Renewal(10, false));
    now.addAndGet(9 * S);
    assertThat(lessor.expired(10)).isEmpty();
    assertThat(lessor.timeToLive(1, false).remainingSeconds()).isEqualTo(1);
    now.addAndGet(1 * S);
    assertThat(lessor.renew(1)).as("an expired lease is as good as revoked").isNull();
    assertThat(lessor.renew(99)).isNull();
  }

  @Test
  void followers_refuseRenewAndTimeToLive() {
    lessor.grant(1, 10);
    assertThatThrownBy(() -> lessor.renew(1)).isInstanceOf(Lessor.NotPrimaryException.class);
    assertThatThrownBy(() -> lessor.timeToLive(1, true)).isInstanceOf(Lessor.NotPrimaryException.class);
    lessor.promote(0);
    lessor.demote();
    assertThatThrownBy(() -> lessor.renew(1)).isInstanceOf(Lessor.NotPrimaryException.class);
  }

  @Test
  void promote_extendsEveryLease_fromItsCheckpointedRemainder() {
    lessor.grant(1, 600);
    lessor.grant(2, 600);
    lessor.checkpoint(1, 100);
    lessor.promote(5 * S);
    assertThat(lessor.timeToLive(1, false).remainingSeconds()).isEqualTo(105);
    assertThat(lessor.timeToLive(2, false).remainingSeconds()).isEqualTo(605);
    assertThat(lessor.timeToLive(1, false).grantedTtl()).isEqualTo(600);
  }

  @Test
  void checkpoints_areDueEveryInterval_forLeasesLongerThanIt_andRenewClearsThem() {
    lessor.promote(0);
    lessor.grant(1, 1000);
    lessor.grant(2, 100); // shorter than the interval: never checkpointed
    now.addAndGet(300 * S);
    List<long[]> cps = lessor.dueCheckpoints(10);
    assertThat(cps).hasSize(1);
    assertThat(cps.get(0)).containsExactly(1, 700);
    assertThat(lessor.dueCheckpoints(10)).isEmpty();
    now.addAndGet(300 * S);
    assertThat(lessor.dueCheckpoints(10).get(0)).containsExactly(1, 400);
    lessor.checkpoint(1, 400);
    assertThat(lessor.renew(1).clearCheckpoint()).isTrue();
    lessor.checkpoint(1, 0);
    assertThat(lessor.renew(1).clearCheckpoint()).isFalse();
  }

  @Test
  void keys_attachOnPut_moveBetweenLeases_andDetachOnDelete() {
    lessor.grant(1, 10);
    lessor.grant(2, 10);
    lessor.onChanges(List.of(put("a", 1), put("b", 1), put("c", 0)));
    assertThat(lessor.keys(1)).extracting(ByteString::toStringUtf8).containsExactly("a", "b");
    lessor.onChanges(List.of(put("a", 2)));
    assertThat(lessor.keys(1)).extracting(ByteString::toStringUtf8).containsExactly("b");
    assertThat(lessor.keys(2)).extracting(ByteString::toStringUtf8).containsExactly("a");
    lessor.onChanges(List.of(put("a", 0), del("b")));
    assertThat(lessor.keys(1)).isEmpty();
    assertThat(lessor.keys(2)).isEmpty();
    lessor.onChanges(List.of(put("d", 2)));
    assertThat(lessor.revoke(2)).extracting(ByteString::toStringUtf8).containsExactly("d");
    assertThat(lessor.revoke(2)).isNull();
    lessor.onChanges(List.of(put("e", 2))); // a put naming a revoked lease is refused before this; ignored here
    assertThat(lessor.keys(2)).isEmpty();
  }

  /** The expiry heap against a sorted model: random grants, renewals, revokes and time steps. */
  @Property(tries = 200)
  void expiryOrder_matchesAModel(@ForAll @Size(max = 300) List<@IntRange(min = 0, max = 999) Integer> ops) {
    AtomicLong t = new AtomicLong(0);
    Lessor l = new Lessor(1, t::get, 0);
    l.promote(0);
    Map<Long, Long> deadline = new HashMap<>();
    Map<Long, Long> ttl = new HashMap<>();
    java.util.Set<Long> handedOut = new java.util.HashSet<>();
    for (int op : ops) {
      long id = op % 17 + 1;
      switch (op % 4) {
        case 0 -> {
          if (!deadline.containsKey(id)) {
            long tt = op % 7 + 1;
            l.grant(id, tt);
            ttl.put(id, tt);
            handedOut.remove(id);
            deadline.put(id, t.get() + tt * S);
          }
        }
        case 1 -> {
          Lessor.Renewal r = l.renew(id);
          Long d = deadline.get(id);
          if (d == null || d <= t.get() || handedOut.contains(id)) {
            assertThat(r).isNull();
          } else {
            deadline.put(id, t.get() + ttl.get(id) * S);
          }
        }
        case 2 -> {
          assertThat(l.revoke(id) != null).isEqualTo(deadline.remove(id) != null);
          handedOut.remove(id);
        }
        default -> {
          t.addAndGet((op % 5) * S / 2);
          List<Long> got = l.expired(1000);
          TreeMap<Long, List<Long>> byTime = new TreeMap<>();
          List<Long> want = new ArrayList<>();
          for (Map.Entry<Long, Long> e : deadline.entrySet()) {
            if (e.getValue() <= t.get()) {
              byTime.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
              want.add(e.getKey());
            }
          }
          assertThat(got).containsExactlyInAnyOrderElementsOf(want);
          // Earliest first.
          List<Long> order = new ArrayList<>();
          for (long id2 : got) {
            order.add(deadline.get(id2));
          }
          assertThat(order).isSorted();
          for (long id2 : got) {
            deadline.put(id2, t.get() + Lessor.EXPIRED_RETRY_NANOS);
            handedOut.add(id2);
          }
        }
      }
    }
  }
}
