package io.kvorum.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyIntervalsTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static final byte[] NONE = new byte[0];
  private static final byte[] FROM_KEY = {0};

  @Test
  void singleKey_coversOnlyThatKey() {
    KeyIntervals iv = new KeyIntervals.Builder().add(b("foo"), NONE).build();
    assertThat(iv.containsKey(b("foo"))).isTrue();
    assertThat(iv.containsKey(b("fo"))).isFalse();
    assertThat(iv.containsKey(b("foo0"))).isFalse();
    assertThat(iv.containsKey(b("foo\0"))).isFalse();
    assertThat(iv.covers(b("foo"), NONE)).isTrue();
    // [foo, foo\0) is exactly the key.
    assertThat(iv.covers(b("foo"), b("foo\0"))).isTrue();
    assertThat(iv.covers(b("foo"), b("fop"))).isFalse();
  }

  @Test
  void prefix_coversRangesInside_notBeyond() {
    KeyIntervals iv = new KeyIntervals.Builder().add(b("a/"), b("a0")).build();
    assertThat(iv.containsKey(b("a/x"))).isTrue();
    assertThat(iv.containsKey(b("a0"))).isFalse();
    assertThat(iv.covers(b("a/"), b("a0"))).isTrue();
    assertThat(iv.covers(b("a/b"), b("a/c"))).isTrue();
    assertThat(iv.covers(b("a/b"), b("a1"))).isFalse();
    assertThat(iv.covers(b("a"), b("a/c"))).isFalse();
    assertThat(iv.covers(b("a/b"), FROM_KEY)).isFalse();
  }

  @Test
  void touchingAndOverlapping_merge_gapsDoNot() {
    KeyIntervals iv = new KeyIntervals.Builder().add(b("a"), b("c")).add(b("c"), b("e")).add(b("d"), b("f"))
        .add(b("h"), b("k")).build();
    assertThat(iv.covers(b("a"), b("f"))).isTrue();
    assertThat(iv.covers(b("b"), b("e"))).isTrue();
    assertThat(iv.covers(b("a"), b("g"))).isFalse();
    assertThat(iv.covers(b("e"), b("i"))).isFalse();
    assertThat(iv.covers(b("h"), b("k"))).isTrue();
    assertThat(iv.containsKey(b("g"))).isFalse();
  }

  @Test
  void openEnded_coversEverythingFromKey() {
    KeyIntervals iv = new KeyIntervals.Builder().add(b("z"), FROM_KEY).build();
    assertThat(iv.containsKey(b("z0"))).isTrue();
    assertThat(iv.containsKey(b("\u00ff\u00ff\u00ff"))).isTrue();
    assertThat(iv.containsKey(b("y"))).isFalse();
    assertThat(iv.covers(b("z"), FROM_KEY)).isTrue();
    assertThat(iv.covers(b("za"), b("zz"))).isTrue();
    assertThat(iv.covers(b("y"), FROM_KEY)).isFalse();
  }

  @Test
  void wholeKeySpace_asEtcdctlGrantsIt() {
    // etcdctl sends an empty key as "\0" with range end "\0".
    KeyIntervals iv = new KeyIntervals.Builder().add(FROM_KEY, FROM_KEY).build();
    assertThat(iv.covers(FROM_KEY, FROM_KEY)).isTrue();
    assertThat(iv.containsKey(b("anything"))).isTrue();
  }

  @Test
  void emptyKey_isAfterEveryKey_asInEtcd() {
    // etcd's BytesAffineComparable: an empty permission key begins after every key, so it grants nothing.
    KeyIntervals iv = new KeyIntervals.Builder().add(NONE, FROM_KEY).build();
    assertThat(iv.containsKey(b("a"))).isFalse();
  }

  @Test
  void none_coversNothing() {
    assertThat(KeyIntervals.NONE.containsKey(b("a"))).isFalse();
    assertThat(KeyIntervals.NONE.covers(b("a"), b("b"))).isFalse();
  }
}
