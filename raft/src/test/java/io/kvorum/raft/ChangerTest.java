package io.kvorum.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChangerTest {
  private static ConfChangeSingle add(long id) {
    return new ConfChangeSingle(ConfChangeType.ADD_NODE, id);
  }

  private static ConfChangeSingle learner(long id) {
    return new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, id);
  }

  private static ConfChangeSingle remove(long id) {
    return new ConfChangeSingle(ConfChangeType.REMOVE_NODE, id);
  }

  private static ProgressTracker voters(long... ids) {
    return Changer.restore(ConfState.ofVoters(ids), 16, 10);
  }

  @Test
  void simple_addOneVoter_isAccepted() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10).simple(List.of(add(4)));
    assertThat(t.confState().voters()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(t.progress.get(4L).next).isEqualTo(10);
  }

  @Test
  void simple_twoVoterChanges_isRefused() {
    assertThatThrownBy(() -> new Changer(voters(1, 2, 3), 10).simple(List.of(add(4), remove(1))))
        .hasMessage("more than one voter changed without entering joint config");
  }

  @Test
  void simple_removeLastVoter_isRefused() {
    assertThatThrownBy(() -> new Changer(voters(1), 10).simple(List.of(remove(1))))
        .hasMessage("removed all voters");
  }

  @Test
  void simple_learnerPromotion_movesLearnerToVoters() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10).simple(List.of(learner(4)));
    assertThat(t.confState().learners()).containsExactly(4L);
    t = new Changer(t, 10).simple(List.of(add(4)));
    assertThat(t.confState().voters()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(t.confState().learners()).isEmpty();
    assertThat(t.progress.get(4L).isLearner).isFalse();
  }

  @Test
  void enterJoint_demoteVoter_becomesLearnerNextUntilLeave() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10).enterJoint(true, List.of(learner(3), add(4)));
    ConfState cs = t.confState();
    assertThat(cs.voters()).containsExactly(1L, 2L, 4L);
    assertThat(cs.votersOutgoing()).containsExactly(1L, 2L, 3L);
    assertThat(cs.learnersNext()).containsExactly(3L);
    assertThat(cs.autoLeave()).isTrue();
    t = new Changer(t, 10).leaveJoint();
    cs = t.confState();
    assertThat(cs.voters()).containsExactly(1L, 2L, 4L);
    assertThat(cs.learners()).containsExactly(3L);
    assertThat(cs.votersOutgoing()).isEmpty();
    assertThat(cs.learnersNext()).isEmpty();
    assertThat(cs.autoLeave()).isFalse();
  }

  @Test
  void enterJoint_whenJoint_isRefused() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10).enterJoint(false, List.of(add(4)));
    assertThatThrownBy(() -> new Changer(t, 10).enterJoint(false, List.of(add(5))))
        .hasMessage("config is already joint");
    assertThatThrownBy(() -> new Changer(t, 10).simple(List.of(add(5))))
        .hasMessage("can't apply simple config change in joint config");
  }

  @Test
  void leaveJoint_whenNotJoint_isRefused() {
    assertThatThrownBy(() -> new Changer(voters(1, 2, 3), 10).leaveJoint())
        .hasMessage("can't leave a non-joint config");
  }

  @Test
  void leaveJoint_removedOutgoingVoter_dropsItsProgress() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10).enterJoint(false, List.of(remove(1), add(4)));
    assertThat(t.progress).containsKey(1L);
    t = new Changer(t, 10).leaveJoint();
    assertThat(t.progress).doesNotContainKey(1L);
    assertThat(t.confState().voters()).containsExactly(2L, 3L, 4L);
  }

  @Test
  void restore_jointConfState_roundTrips() {
    ProgressTracker t = new Changer(voters(1, 2, 3), 10)
        .enterJoint(true, List.of(learner(3), add(4), learner(5)));
    ConfState cs = t.confState();
    assertThat(Changer.restore(cs, 16, 10).confState()).isEqualTo(cs);
  }

  @Test
  void refusedChange_leavesLiveTrackerUntouched() {
    ProgressTracker live = voters(1, 2, 3);
    live.progress.get(3L).match = 7;
    assertThatThrownBy(() -> new Changer(live, 10).simple(List.of(learner(3), add(4), add(5))))
        .isInstanceOf(Changer.ConfChangeException.class);
    assertThat(live.confState()).isEqualTo(ConfState.ofVoters(1, 2, 3));
    assertThat(live.progress.get(3L).isLearner).isFalse();
  }

  @Test
  void confChange_encodeDecode_roundTrips() {
    ConfChange cc = new ConfChange(ConfChangeTransition.JOINT_EXPLICIT, List.of(add(4), learner(5), remove(1)),
        new byte[] {1, 2, 3});
    assertThat(ConfChange.decode(cc.encode())).isEqualTo(cc);
    assertThatThrownBy(() -> ConfChange.decode(new byte[] {9}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConfChange.decode(new byte[] {1, 0, 0, 0, 0, 5}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void inflights_fullWindow_freesUpToAcknowledged() {
    Inflights in = new Inflights(3);
    in.add(5);
    in.add(7);
    in.add(9);
    assertThat(in.full()).isTrue();
    in.freeLE(7);
    assertThat(in.count()).isEqualTo(1);
    in.add(11);
    in.add(13);
    assertThat(in.full()).isTrue();
    in.freeFirstOne();
    assertThat(in.count()).isEqualTo(2);
    in.freeLE(100);
    assertThat(in.count()).isZero();
  }
}
