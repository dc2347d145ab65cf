package io.kvorum.server.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HashKV values pinned from real etcd 3.4.23 for the same history. They were produced by running a
 * fresh single-member etcd on loopback and the commands below with etcdctl 3.4.23, reading each
 * hash with {@code etcdctl endpoint hashkv -w json [--rev=N]}:
 *
 * <pre>
 * etcd --data-dir $(mktemp -d) --listen-client-urls http://127.0.0.1:23790 \
 *   --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
 *   --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster default=http://127.0.0.1:23800
 * E="etcdctl --endpoints=127.0.0.1:23790"
 * $E endpoint hashkv                                   # 1084519789 rev 1 compact -1
 * $E put foo bar; $E put foo baz; $E put bar 1         # revisions 2, 3, 4
 * curl -X POST http://127.0.0.1:23790/v3/lease/grant -d '{"TTL":3600,"ID":4660}'
 * $E put leased v --lease=1234                         # revision 5 (lease 0x1234)
 * printf 'value("bar") = "1"\n\nput t1 a\nput t2 b\ndel foo\n\n\n' | $E txn   # revision 6
 * $E del foo                                           # deletes nothing, still 6
 * $E put foo again                                     # 7
 * $E del --prefix t                                    # 8
 * $E put bar 2                                         # 9
 * $E endpoint hashkv          # 2399221628 rev 9 compact -1
 * $E endpoint hashkv --rev=5  # 900392889
 * $E endpoint hashkv --rev=6  # 2247020040
 * $E endpoint hashkv --rev=2  # 3305255506
 * $E compact 6 --physical
 * $E endpoint hashkv          # 1737591352 rev 9 compact 6
 * $E endpoint hashkv --rev=7  # 755120415
 * $E compact 9 --physical
 * $E endpoint hashkv          # 686366712 rev 9 compact 9
 * $E del "" --prefix          # 10
 * $E endpoint hashkv          # 1360547854 rev 10 compact 9
 * $E compact 10 --physical
 * $E endpoint hashkv          # 1084519789 rev 10 compact 10
 * $E put z 1                  # 11
 * $E endpoint hashkv          # 974378710 rev 11 compact 10
 * </pre>
 */
class HashKvEtcdTest {
  private static final ConsistentIndex CI = ConsistentIndex.ZERO;

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Test
  void hashKv_sameHistoryAsEtcd_equalsEtcdHashes(@TempDir Path dir) throws Exception {
    try (Backend backend = Backend.open(dir);
        KvStore s = KvStore.open(backend)) {
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(1084519789L, 1, -1));

      assertThat(s.put(b("foo"), b("bar"), 0, CI)).isEqualTo(2);
      s.put(b("foo"), b("baz"), 0, CI);
      s.put(b("bar"), b("1"), 0, CI);
      assertThat(s.put(b("leased"), b("v"), 0x1234, CI)).isEqualTo(5);
      try (WriteTxn txn = s.write(CI)) {
        txn.put(b("t1"), b("a"), 0);
        txn.put(b("t2"), b("b"), 0);
        txn.deleteRange(KeyRange.single(b("foo")));
        assertThat(txn.end()).isEqualTo(6);
      }
      assertThat(s.deleteRange(KeyRange.single(b("foo")), CI)).isEqualTo(new DeleteResult(0, 6));
      s.put(b("foo"), b("again"), 0, CI);
      assertThat(s.deleteRange(KeyRange.prefix(b("t")), CI)).isEqualTo(new DeleteResult(2, 8));
      s.put(b("bar"), b("2"), 0, CI);

      assertThat(s.hashKv(0)).isEqualTo(new HashKv(2399221628L, 9, -1));
      assertThat(s.hashKv(5).hash()).isEqualTo(900392889L);
      assertThat(s.hashKv(6).hash()).isEqualTo(2247020040L);
      assertThat(s.hashKv(2).hash()).isEqualTo(3305255506L);

      s.compact(6, CI).get(30, TimeUnit.SECONDS);
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(1737591352L, 9, 6));
      assertThat(s.hashKv(7).hash()).isEqualTo(755120415L);

      s.compact(9, CI).get(30, TimeUnit.SECONDS);
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(686366712L, 9, 9));

      assertThat(s.deleteRange(KeyRange.fromRequest(b("\0"), b("\0")), CI).revision()).isEqualTo(10);
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(1360547854L, 10, 9));

      s.compact(10, CI).get(30, TimeUnit.SECONDS);
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(1084519789L, 10, 10));

      s.put(b("z"), b("1"), 0, CI);
      assertThat(s.hashKv(0)).isEqualTo(new HashKv(974378710L, 11, 10));
    }
  }
}
