package io.kvorum.server.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyIndexTest {
  private static final ByteString FOO = ByteString.copyFromUtf8("foo");

  private static Revision r(long main) {
    return new Revision(main, 0);
  }

  /** The record size these tests give a revision of main revision {@code main}. */
  private static long sz(long main) {
    return 100 + main;
  }

  /** put(2) put(3) delete(4) put(6) delete(7): generations {2 3 4t} {6 7t} {}. */
  private static KeyIndex history() {
    return KeyIndex.created(FOO, 2, 0, sz(2)).put(3, 0, sz(3)).tombstone(4, 0, sz(4)).put(6, 0, sz(6))
        .tombstone(7, 0, sz(7));
  }

  @Test
  void get_acrossGenerations_returnsRevisionCreationAndVersion() {
    KeyIndex ki = history();
    assertThat(ki.get(1)).isNull();
    assertThat(ki.get(2)).isEqualTo(new KeyIndex.Found(r(2), 2, 1));
    assertThat(ki.get(3)).isEqualTo(new KeyIndex.Found(r(3), 2, 2));
    assertThat(ki.get(4)).isNull();
    assertThat(ki.get(5)).isNull();
    assertThat(ki.get(6)).isEqualTo(new KeyIndex.Found(r(6), 6, 1));
    assertThat(ki.get(7)).isNull();
    assertThat(ki.get(100)).isNull();
    assertThat(ki.isDeleted()).isTrue();
  }

  @Test
  void get_subRevisionsOfOneMain_returnsTheLast() {
    KeyIndex ki = KeyIndex.created(FOO, 2, 0, sz(2)).put(2, 3, sz(2)).put(5, 1, sz(5));
    assertThat(ki.get(2)).isEqualTo(new KeyIndex.Found(new Revision(2, 3), 2, 2));
    assertThat(ki.get(4)).isEqualTo(new KeyIndex.Found(new Revision(2, 3), 2, 2));
    assertThat(ki.get(5)).isEqualTo(new KeyIndex.Found(new Revision(5, 1), 2, 3));
  }

  @Test
  void put_notNewer_isInvariantViolation() {
    KeyIndex ki = KeyIndex.created(FOO, 5, 1, sz(5));
    assertThatThrownBy(() -> ki.put(5, 1, sz(5))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ki.put(4, 9, sz(4))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ki.tombstone(6, 0, sz(6)).tombstone(7, 0, sz(7)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("deleted key");
  }

  @Test
  void compact_keepsNewestAtOrBelowOfLiveGeneration() {
    List<Revision> kept = new ArrayList<>();
    KeyIndex c = history().compact(3, kept);
    assertThat(kept).containsExactly(r(3));
    assertThat(c.get(3)).isEqualTo(new KeyIndex.Found(r(3), 2, 2));
    assertThat(c.get(2)).isNull(); // compacted away
    assertThat(c).isEqualTo(
        KeyIndex.restored(FOO, 2, 3, 0, 2, sz(3)).tombstone(4, 0, sz(4)).put(6, 0, sz(6)).tombstone(7, 0, sz(7)));
  }

  @Test
  void compact_atOrAfterTombstone_dropsThatGeneration() {
    List<Revision> kept = new ArrayList<>();
    assertThat(history().compact(4, kept)).isEqualTo(KeyIndex.created(FOO, 6, 0, sz(6)).tombstone(7, 0, sz(7))
        .compact(5, new ArrayList<>()));
    assertThat(kept).isEmpty();

    kept.clear();
    KeyIndex c = history().compact(6, kept);
    assertThat(kept).containsExactly(r(6));
    assertThat(c.get(6)).isEqualTo(new KeyIndex.Found(r(6), 6, 1));

    kept.clear();
    assertThat(history().compact(7, kept)).isNull();
    assertThat(history().compact(100, kept)).isNull();
    assertThat(kept).isEmpty();
  }

  @Test
  void bytes_sumOfRecordsHeld_fallsByWhatCompactionDrops() {
    KeyIndex ki = history();
    assertThat(ki.bytes()).isEqualTo(sz(2) + sz(3) + sz(4) + sz(6) + sz(7));
    assertThat(ki.compact(3, new ArrayList<>()).bytes()).isEqualTo(sz(3) + sz(4) + sz(6) + sz(7));
    assertThat(ki.compact(4, new ArrayList<>()).bytes()).isEqualTo(sz(6) + sz(7));
    assertThat(ki.compact(6, new ArrayList<>()).bytes()).isEqualTo(sz(6) + sz(7));
  }

  @Test
  void equals_sameRevisionsOtherSizes_isFalse() {
    assertThat(KeyIndex.created(FOO, 2, 0, 10)).isNotEqualTo(KeyIndex.created(FOO, 2, 0, 11));
  }

  @Test
  void put_subOrSizeBeyond32Bits_isInvariantViolation() {
    KeyIndex ki = KeyIndex.created(FOO, 2, 0, 10);
    assertThatThrownBy(() -> ki.put(3, 1L << 32, 10)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ki.put(3, 0, 1L << 32)).isInstanceOf(IllegalStateException.class);
    assertThat(ki.put(3, 0xFFFF_FFFFL, 0xFFFF_FFFFL).get(3).modified()).isEqualTo(new Revision(3, 0xFFFF_FFFFL));
  }

  @Test
  void compact_nothingToDrop_returnsSameObject() {
    KeyIndex ki = KeyIndex.created(FOO, 5, 0, sz(5)).put(6, 0, sz(6));
    List<Revision> kept = new ArrayList<>();
    assertThat(ki.compact(5, kept)).isSameAs(ki);
    assertThat(kept).containsExactly(r(5));
    assertThat(ki.compact(4, kept)).isSameAs(ki);
  }

  @Test
  void keep_matchesCompactWithoutChanging() {
    for (long at = 1; at <= 8; at++) {
      List<Revision> fromKeep = new ArrayList<>();
      List<Revision> fromCompact = new ArrayList<>();
      KeyIndex ki = history();
      ki.keep(at, fromKeep);
      ki.compact(at, fromCompact);
      assertThat(fromKeep).as("at %d", at).isEqualTo(fromCompact);
      assertThat(ki).isEqualTo(history());
    }
  }

  @Test
  void since_returnsLastChangePerMainFromRevision() {
    KeyIndex ki = KeyIndex.created(FOO, 2, 0, sz(2)).put(2, 1, sz(2)).tombstone(3, 0, sz(3)).put(5, 0, sz(5));
    assertThat(ki.since(1)).containsExactly(new Revision(2, 1), r(3), r(5));
    assertThat(ki.since(3)).containsExactly(r(3), r(5));
    assertThat(ki.since(6)).isEmpty();
  }

  @Test
  void olderView_afterNewerAppends_isUnchanged() {
    KeyIndex v1 = KeyIndex.created(FOO, 2, 0, sz(2)).put(3, 0, sz(3));
    KeyIndex v2 = v1.put(4, 0, sz(4));
    KeyIndex v3 = v2.put(5, 0, sz(5)).tombstone(6, 0, sz(6));
    KeyIndex v4 = v3.put(7, 0, sz(7));
    assertThat(v1.get(100)).isEqualTo(new KeyIndex.Found(r(3), 2, 2));
    assertThat(v2.get(100)).isEqualTo(new KeyIndex.Found(r(4), 2, 3));
    assertThat(v3.get(100)).isNull();
    assertThat(v4.get(100)).isEqualTo(new KeyIndex.Found(r(7), 7, 1));
    assertThat(v1.toString()).isEqualTo("foo {c=2 v=2 2_0 3_0}");
  }
}
