package io.kvorum.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Basic behaviour of a RawNode cluster driven by a lossless in-order network. */
class RawNodeTest {
  /** A minimal cluster: every member handles its Ready fully; messages are delivered in order. */
  static final class Cluster {
    final TreeMap<Long, RawNode> nodes = new TreeMap<>();
    final TreeMap<Long, MemoryStorage> storages = new TreeMap<>();
    final TreeMap<Long, List<byte[]>> applied = new TreeMap<>();
    final ArrayDeque<Message> wire = new ArrayDeque<>();

    Cluster(long... ids) {
      this(c -> c, ids);
    }

    /** As above, each member's configuration changed by {@code tune}. */
    Cluster(java.util.function.UnaryOperator<Config> tune, long... ids) {
      for (long id : ids) {
        MemoryStorage s = new MemoryStorage();
        s.applySnapshot(new Snapshot(new SnapshotMetadata(ConfState.ofVoters(ids), 1, 1), null));
        s.setHardState(new HardState(1, 0, 1));
        storages.put(id, s);
        nodes.put(id, new RawNode(tune.apply(Config.defaults(id, s, new SplittableRandom(id)).withApplied(1))));
        applied.put(id, new ArrayList<>());
      }
    }

    void process() {
      for (int round = 0; round < 1000; round++) {
        boolean any = false;
        for (var e : nodes.entrySet()) {
          RawNode n = e.getValue();
          while (n.hasReady()) {
            any = true;
            Ready rd = n.ready();
            MemoryStorage s = storages.get(e.getKey());
            if (rd.snapshot() != null) {
              s.applySnapshot(rd.snapshot());
            }
            s.append(rd.entries());
            if (rd.hardState() != null) {
              s.setHardState(rd.hardState());
            }
            wire.addAll(rd.messages());
            for (Entry ent : rd.committedEntries()) {
              if (ent.type() == EntryType.CONF_CHANGE) {
                n.applyConfChange(ConfChange.decode(ent.data()));
              } else if (ent.data().length > 0) {
                applied.get(e.getKey()).add(ent.data());
              }
            }
            n.advance();
          }
        }
        while (!wire.isEmpty()) {
          any = true;
          Message m = wire.pollFirst();
          RawNode to = nodes.get(m.to());
          if (to != null) {
            to.step(m);
          }
        }
        if (!any) {
          return;
        }
      }
      throw new AssertionError("cluster did not quiesce");
    }

    long leader() {
      for (RawNode n : nodes.values()) {
        if (n.status().isLeader()) {
          return n.id();
        }
      }
      return 0;
    }
  }

  @Test
  void campaign_threeMembers_electsLeaderAndReplicates() {
    Cluster c = new Cluster(1, 2, 3);
    c.nodes.get(1L).campaign();
    c.process();
    assertThat(c.leader()).isEqualTo(1);
    assertThat(c.nodes.get(1L).status().hardState().term()).isEqualTo(2);
    c.nodes.get(1L).propose("hello".getBytes(StandardCharsets.UTF_8));
    c.process();
    for (long id = 1; id <= 3; id++) {
      assertThat(c.applied.get(id)).hasSize(1);
      assertThat(new String(c.applied.get(id).get(0), StandardCharsets.UTF_8)).isEqualTo("hello");
    }
  }

  @Test
  void propose_onFollower_isForwardedToLeader() {
    Cluster c = new Cluster(1, 2, 3);
    c.nodes.get(2L).campaign();
    c.process();
    c.nodes.get(3L).propose(new byte[] {7});
    c.process();
    assertThat(c.applied.get(1L)).hasSize(1);
  }

  @Test
  void propose_withoutLeader_isDropped() {
    Cluster c = new Cluster(1, 2, 3);
    assertThatThrownBy(() -> c.nodes.get(1L).propose(new byte[] {1}))
        .isInstanceOf(RaftException.ProposalDropped.class);
  }

  /**
   * The leader's uncommitted tail ({@code maxUncommittedEntriesSizeBytes}, 1 GiB by default) filled
   * while no follower answers: a proposal beyond it is dropped, and taken again once the tail
   * commits.
   */
  @Test
  void propose_uncommittedTailAtItsMax_isDroppedUntilTheTailCommits() {
    long maxUncommitted = 100;
    Cluster c = new Cluster(cfg -> cfg.withLimits(1024 * 1024, 256, maxUncommitted), 1, 2, 3);
    c.nodes.get(1L).campaign();
    c.process();
    assertThat(c.leader()).isEqualTo(1);
    RawNode leader = c.nodes.get(1L);
    // Nothing is delivered while proposing: the tail grows by 10 bytes a proposal.
    for (int i = 0; i < maxUncommitted / 10; i++) {
      leader.propose(new byte[10]);
    }
    assertThatThrownBy(() -> leader.propose(new byte[10])).isInstanceOf(RaftException.ProposalDropped.class);
    c.process();
    assertThat(c.applied.get(1L)).hasSize((int) (maxUncommitted / 10));
    leader.propose(new byte[10]);
    c.process();
    assertThat(c.applied.get(2L)).hasSize((int) (maxUncommitted / 10) + 1);
  }

  @Test
  void ticks_singleMember_electsItself() {
    Cluster c = new Cluster(1);
    for (int i = 0; i < 30; i++) {
      c.nodes.get(1L).tick();
    }
    c.process();
    assertThat(c.leader()).isEqualTo(1);
  }

  @Test
  void readIndex_onFollower_answersWithLeaderCommit() {
    Cluster c = new Cluster(1, 2, 3);
    c.nodes.get(1L).campaign();
    c.process();
    c.nodes.get(1L).propose(new byte[] {1});
    c.process();
    RawNode follower = c.nodes.get(2L);
    follower.readIndex(new byte[] {42});
    // Drive by hand to catch the read state in a Ready.
    long answered = -1;
    for (int round = 0; round < 20 && answered < 0; round++) {
      for (var e : c.nodes.entrySet()) {
        RawNode n = e.getValue();
        if (!n.hasReady()) {
          continue;
        }
        Ready rd = n.ready();
        MemoryStorage s = c.storages.get(e.getKey());
        s.append(rd.entries());
        if (rd.hardState() != null) {
          s.setHardState(rd.hardState());
        }
        c.wire.addAll(rd.messages());
        if (e.getKey() == 2L && !rd.readStates().isEmpty()) {
          answered = rd.readStates().get(0).index();
        }
        n.advance();
      }
      while (!c.wire.isEmpty()) {
        Message m = c.wire.pollFirst();
        c.nodes.get(m.to()).step(m);
      }
    }
    assertThat(answered).isEqualTo(c.nodes.get(1L).status().hardState().commit());
  }
}
