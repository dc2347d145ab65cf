package io.kvorum.server.etcddata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdraftpb.ConfChange;
import io.kvorum.proto.etcdraftpb.ConfChangeType;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.EntryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdDataDirTest {
  private static final long A = 0x8e9e05c52164694dL;
  private static final long B = 0xfd422379fda50e48L;
  private static final long C = 0x1234L;

  @TempDir Path data;

  private static Entry conf(long index, long term, ConfChangeType type, long id, String peer, boolean learner) {
    String ctx = peer == null ? null
        : "{\"id\":" + Long.toUnsignedString(id) + ",\"peerURLs\":[\"" + peer + "\"]" + (learner ? ",\"isLearner\":true" : "") + "}";
    ConfChange.Builder cc = ConfChange.newBuilder().setType(type).setNodeId(id);
    if (ctx != null) {
      cc.setContext(ByteString.copyFromUtf8(ctx));
    }
    return Entry.newBuilder().setIndex(index).setTerm(term).setType(EntryType.EntryConfChange).setData(cc.build().toByteString()).build();
  }

  /** What etcdctl snapshot restore writes for a two-member cluster, then a few entries of a running member. */
  private WalFixture restored() throws Exception {
    Path member = data.resolve("member");
    Files.createDirectories(member.resolve("snap"));
    Files.write(member.resolve("snap").resolve("db"), new byte[] {0});
    String store = SnapFixture.storeJson(null, new String[0],
        new Object[] {Long.toHexString(A), "http://127.0.0.1:2380", null, false},
        new Object[] {Long.toHexString(B), "http://127.0.0.1:2381", null, false});
    SnapFixture.write(member.resolve("snap"), SnapFixture.snapshot(2, 1, store, A, B));
    return new WalFixture().startFile().metadata(A, 0x77L).snapshot(0, 0)
        .entry(conf(1, 1, ConfChangeType.ConfChangeAddNode, A, "http://127.0.0.1:2380", false))
        .entry(conf(2, 1, ConfChangeType.ConfChangeAddNode, B, "http://127.0.0.1:2381", false))
        .state(1, 0, 2).snapshot(2, 1);
  }

  @Test
  void read_restoredDataDir_hasSnapshotMembershipAndNoEntriesAfterIt() throws Exception {
    restored().write(data.resolve("member/wal"), 0, 0);
    assertThat(EtcdDataDir.isEtcd(data, Optional.empty())).isTrue();
    EtcdDataDir d = EtcdDataDir.read(data, Optional.empty());
    assertThat(d.memberId()).isEqualTo(A);
    assertThat(d.clusterId()).isEqualTo(0x77L);
    assertThat(d.hardState().getCommit()).isEqualTo(2);
    assertThat(d.snapshot().getIndex()).isEqualTo(2);
    assertThat(d.snapshot().getConfState().getVotersList()).containsExactly(A, B);
    assertThat(d.committedEntries()).isEmpty();
    assertThat(d.hasUncommittedEntries()).isFalse();
    assertThat(d.membership().members().keySet()).containsExactlyInAnyOrder(A, B);
    assertThat(d.dbFile()).isEqualTo(data.resolve("member/snap/db"));
  }

  @Test
  void read_confChangesAfterTheSnapshot_applyUpToTheCommitIndexOnly() throws Exception {
    Path wal = data.resolve("elsewhere");
    restored()
        .entry(Entry.newBuilder().setIndex(3).setTerm(2).setType(EntryType.EntryNormal).build())
        .entry(conf(4, 2, ConfChangeType.ConfChangeAddLearnerNode, C, "http://127.0.0.1:2382", true))
        .entry(conf(5, 2, ConfChangeType.ConfChangeRemoveNode, B, null, false))
        .entry(conf(6, 2, ConfChangeType.ConfChangeRemoveNode, A, null, false))
        .state(2, A, 5).write(wal, 0, 0);
    EtcdDataDir d = EtcdDataDir.read(data, Optional.of(wal));
    assertThat(d.committedEntries()).extracting(Entry::getIndex).containsExactly(3L, 4L, 5L);
    assertThat(d.uncommittedEntries()).extracting(Entry::getIndex).containsExactly(6L);
    assertThat(d.membership().members().keySet()).containsExactlyInAnyOrder(A, C);
    assertThat(d.membership().members().get(C).isLearner()).isTrue();
    assertThat(d.membership().removed()).containsExactly(B);
    assertThat(d.snapshotMembership().members().keySet()).containsExactlyInAnyOrder(A, B);
  }

  @Test
  void read_noSnapFile_startsFromAnEmptyMembership() throws Exception {
    Files.createDirectories(data.resolve("member/snap"));
    Files.write(data.resolve("member/snap/db"), new byte[] {0});
    new WalFixture().startFile().metadata(A, 9).snapshot(0, 0)
        .entry(conf(1, 1, ConfChangeType.ConfChangeAddNode, A, "http://127.0.0.1:2380", false))
        .state(2, A, 1).write(data.resolve("member/wal"), 0, 0);
    EtcdDataDir d = EtcdDataDir.read(data, Optional.empty());
    assertThat(d.snapFile()).isEmpty();
    assertThat(d.snapshot().getIndex()).isZero();
    assertThat(d.membership().voters()).containsExactly(A);
  }

  @Test
  void read_kvorumDataDir_isRefused() throws Exception {
    Files.createDirectories(data.resolve("member/kv"));
    assertThat(EtcdDataDir.isKvorum(data)).isTrue();
    assertThat(EtcdDataDir.isEtcd(data, Optional.empty())).isFalse();
    assertThatThrownBy(() -> EtcdDataDir.read(data, Optional.empty())).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("Kvorum data dir");
  }

  @Test
  void read_noDbFile_isRefused() throws Exception {
    Files.createDirectories(data.resolve("member/wal"));
    assertThatThrownBy(() -> EtcdDataDir.read(data, Optional.empty())).isInstanceOf(EtcdDataException.class)
        .hasMessageContaining("not an etcd data dir");
  }
}
