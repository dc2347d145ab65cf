package io.kvorum.server.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.storage.StorageException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RevisionTest {
  @Test
  void toKey_mainAndSub_isEtcdsSeventeenBytes() {
    byte[] k = new Revision(5, 2).toKey();
    assertThat(k).containsExactly(0, 0, 0, 0, 0, 0, 0, 5, '_', 0, 0, 0, 0, 0, 0, 0, 2);
    assertThat(Revision.isTombstoneKey(k)).isFalse();
  }

  @Test
  void toTombstoneKey_appendsT() {
    byte[] k = new Revision(0x0102, 0x0304).toTombstoneKey();
    assertThat(k).containsExactly(0, 0, 0, 0, 0, 0, 1, 2, '_', 0, 0, 0, 0, 0, 0, 3, 4, 't');
    assertThat(Revision.isTombstoneKey(k)).isTrue();
    assertThat(Revision.fromKey(k)).isEqualTo(new Revision(0x0102, 0x0304));
  }

  @Test
  void fromKey_roundTripsAndKeyOrderIsRevisionOrder() {
    Revision[] revs = {
      new Revision(1, 0), new Revision(1, 1), new Revision(2, 0), new Revision(255, 7),
      new Revision(256, 0), new Revision(Long.MAX_VALUE, Long.MAX_VALUE)
    };
    for (int i = 0; i < revs.length; i++) {
      assertThat(Revision.fromKey(revs[i].toKey())).isEqualTo(revs[i]);
      if (i > 0) {
        assertThat(Arrays.compareUnsigned(revs[i - 1].toKey(), revs[i].toKey())).isNegative();
        assertThat(Arrays.compareUnsigned(revs[i - 1].toTombstoneKey(), revs[i].toKey())).isNegative();
        assertThat(revs[i - 1]).isLessThan(revs[i]);
      }
    }
  }

  @Test
  void fromKey_malformed_isStorageError() {
    assertThatThrownBy(() -> Revision.fromKey(new byte[16])).isInstanceOf(StorageException.class);
    byte[] noSeparator = new Revision(1, 1).toKey();
    noSeparator[8] = 'x';
    assertThatThrownBy(() -> Revision.fromKey(noSeparator)).isInstanceOf(StorageException.class);
    byte[] badMark = Arrays.copyOf(new Revision(1, 1).toKey(), 18);
    badMark[17] = 'x';
    assertThatThrownBy(() -> Revision.fromKey(badMark)).isInstanceOf(StorageException.class);
  }
}
