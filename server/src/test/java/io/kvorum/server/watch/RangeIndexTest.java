package io.kvorum.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.server.mvcc.KeyRange;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** The interval index against a scan of every range: random ranges come and go, random keys stab. */
class RangeIndexTest {
  private static ByteString key(Random rnd) {
    byte[] b = new byte[1 + rnd.nextInt(3)];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (rnd.nextBoolean() ? 'a' + rnd.nextInt(4) : rnd.nextInt(256));
    }
    return ByteString.copyFrom(b);
  }

  private static KeyRange range(Random rnd) {
    ByteString k = key(rnd);
    switch (rnd.nextInt(3)) {
      case 0:
        return KeyRange.prefix(k);
      case 1:
        return KeyRange.atLeast(k);
      default:
        ByteString e = key(rnd);
        return ByteString.unsignedLexicographicalComparator().compare(k, e) < 0
            ? KeyRange.between(k, e) : KeyRange.prefix(k);
    }
  }

  @Property(tries = 200)
  void stab_findsExactlyTheRangesContainingTheKey(@ForAll long seed) {
    Random rnd = new Random(seed);
    RangeIndex index = new RangeIndex();
    List<Watcher> live = new ArrayList<>();
    for (int step = 0; step < 300; step++) {
      int op = rnd.nextInt(10);
      if (op < 4 || live.isEmpty()) {
        Watcher w = new Watcher(null, step, range(rnd), false, false, false, false, false, 0);
        live.add(w);
        index.add(w);
      } else if (op < 6) {
        Watcher w = live.remove(rnd.nextInt(live.size()));
        index.remove(w);
      } else {
        ByteString k = key(rnd);
        Set<Watcher> found = Collections.newSetFromMap(new IdentityHashMap<>());
        index.stab(k, found::addAll);
        Set<Watcher> want = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Watcher w : live) {
          if (w.range.contains(k)) {
            want.add(w);
          }
        }
        assertThat(found).as("key %s", k).isEqualTo(want);
      }
    }
  }
}
