package io.kvorum.raft;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Applies membership changes to a copy of a {@link ProgressTracker}: single-step changes, entering
 * and leaving a joint configuration, and restoring a configuration from a {@link ConfState}. Every
 * result is checked against the configuration invariants before it is returned; an invalid change
 * is a {@link ConfChangeException} and the live tracker is untouched.
 */
final class Changer {
  /** A membership change that would break a configuration rule. */
  static final class ConfChangeException extends RaftException {
    private static final long serialVersionUID = 1L;

    ConfChangeException(String message) {
      super(message);
    }
  }

  private final ProgressTracker tracker;
  private final long lastIndex;

  Changer(ProgressTracker tracker, long lastIndex) {
    this.tracker = tracker;
    this.lastIndex = lastIndex;
  }

  /** Applies {@code cc} as raft does when the entry carrying it is applied. */
  ProgressTracker apply(ConfChange cc) {
    if (cc.isLeaveJoint()) {
      return leaveJoint();
    }
    if (cc.entersJoint()) {
      return enterJoint(cc.autoLeave(), cc.changes());
    }
    return simple(cc.changes());
  }

  ProgressTracker enterJoint(boolean autoLeave, List<ConfChangeSingle> changes) {
    ProgressTracker t = checkAndCopy();
    if (t.isJoint()) {
      throw new ConfChangeException("config is already joint");
    }
    if (t.incoming.isEmpty()) {
      throw new ConfChangeException("can't make a zero-voter config joint");
    }
    t.outgoing = new TreeSet<>(t.incoming);
    applyAll(t, changes);
    t.autoLeave = autoLeave;
    return checkAndReturn(t);
  }

  ProgressTracker leaveJoint() {
    ProgressTracker t = checkAndCopy();
    if (!t.isJoint()) {
      throw new ConfChangeException("can't leave a non-joint config");
    }
    for (long id : t.learnersNext) {
      t.learners.add(id);
      t.progress.get(id).isLearner = true;
    }
    t.learnersNext = new TreeSet<>();
    for (long id : t.outgoing) {
      if (!t.incoming.contains(id) && !t.learners.contains(id)) {
        t.progress.remove(id);
      }
    }
    t.outgoing = new TreeSet<>();
    t.autoLeave = false;
    return checkAndReturn(t);
  }

  ProgressTracker simple(List<ConfChangeSingle> changes) {
    ProgressTracker t = checkAndCopy();
    if (t.isJoint()) {
      throw new ConfChangeException("can't apply simple config change in joint config");
    }
    applyAll(t, changes);
    Set<Long> before = tracker.incoming;
    int diff = 0;
    for (long id : t.incoming) {
      if (!before.contains(id)) {
        diff++;
      }
    }
    for (long id : before) {
      if (!t.incoming.contains(id)) {
        diff++;
      }
    }
    if (diff > 1) {
      throw new ConfChangeException("more than one voter changed without entering joint config");
    }
    return checkAndReturn(t);
  }

  /** Builds the configuration described by {@code cs} from an empty tracker. */
  static ProgressTracker restore(ConfState cs, int maxInflight, long lastIndex) {
    ProgressTracker t = new ProgressTracker(maxInflight);
    if (cs.votersOutgoing().isEmpty()) {
      for (long id : cs.voters()) {
        t = new Changer(t, lastIndex).simple(List.of(new ConfChangeSingle(ConfChangeType.ADD_NODE, id)));
      }
      for (long id : cs.learners()) {
        t = new Changer(t, lastIndex).simple(List.of(new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, id)));
      }
      return t;
    }
    for (long id : cs.votersOutgoing()) {
      t = new Changer(t, lastIndex).simple(List.of(new ConfChangeSingle(ConfChangeType.ADD_NODE, id)));
    }
    List<ConfChangeSingle> in = new java.util.ArrayList<>();
    for (long id : cs.votersOutgoing()) {
      in.add(new ConfChangeSingle(ConfChangeType.REMOVE_NODE, id));
    }
    for (long id : cs.voters()) {
      in.add(new ConfChangeSingle(ConfChangeType.ADD_NODE, id));
    }
    for (long id : cs.learners()) {
      in.add(new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, id));
    }
    for (long id : cs.learnersNext()) {
      in.add(new ConfChangeSingle(ConfChangeType.ADD_LEARNER_NODE, id));
    }
    return new Changer(t, lastIndex).enterJoint(cs.autoLeave(), in);
  }

  private void applyAll(ProgressTracker t, List<ConfChangeSingle> changes) {
    for (ConfChangeSingle cc : changes) {
      if (cc.nodeId() == 0) {
        continue;
      }
      switch (cc.type()) {
        case ADD_NODE -> makeVoter(t, cc.nodeId());
        case ADD_LEARNER_NODE -> makeLearner(t, cc.nodeId());
        case REMOVE_NODE -> remove(t, cc.nodeId());
        case UPDATE_NODE -> { }
        default -> throw new ConfChangeException("unexpected conf type " + cc.type());
      }
    }
    if (t.incoming.isEmpty()) {
      throw new ConfChangeException("removed all voters");
    }
  }

  private void makeVoter(ProgressTracker t, long id) {
    Progress pr = t.progress.get(id);
    if (pr == null) {
      initProgress(t, id, false);
      return;
    }
    pr.isLearner = false;
    t.learners.remove(id);
    t.learnersNext.remove(id);
    t.incoming.add(id);
  }

  private void makeLearner(ProgressTracker t, long id) {
    Progress pr = t.progress.get(id);
    if (pr == null) {
      initProgress(t, id, true);
      return;
    }
    if (pr.isLearner) {
      return;
    }
    // Remove any existing voter in the incoming config, then add it back as a learner (or as a
    // learner-to-be when it still votes in the outgoing config).
    remove(t, id);
    t.progress.put(id, pr);
    if (t.outgoing.contains(id)) {
      t.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      t.learners.add(id);
    }
  }

  private void remove(ProgressTracker t, long id) {
    if (!t.progress.containsKey(id)) {
      return;
    }
    t.incoming.remove(id);
    t.learners.remove(id);
    t.learnersNext.remove(id);
    if (!t.outgoing.contains(id)) {
      t.progress.remove(id);
    }
  }

  private void initProgress(ProgressTracker t, long id, boolean isLearner) {
    if (isLearner) {
      t.learners.add(id);
    } else {
      t.incoming.add(id);
    }
    // Start probing at the last index: the new member most likely has nothing, and a rejection
    // walks next back quickly (or triggers a snapshot).
    Progress pr = new Progress(Math.max(lastIndex, 1), t.maxInflight, isLearner);
    // A new member counts as active: it must not make the leader step down before it could answer.
    pr.recentActive = true;
    t.progress.put(id, pr);
  }

  private ProgressTracker checkAndCopy() {
    checkInvariants(tracker);
    return tracker.copy();
  }

  private static ProgressTracker checkAndReturn(ProgressTracker t) {
    checkInvariants(t);
    return t;
  }

  static void checkInvariants(ProgressTracker t) {
    for (Set<Long> ids : List.of(t.incoming, t.outgoing, t.learners, t.learnersNext)) {
      for (long id : ids) {
        if (!t.progress.containsKey(id)) {
          throw new ConfChangeException("no progress for " + id);
        }
      }
    }
    for (long id : t.learnersNext) {
      if (!t.outgoing.contains(id)) {
        throw new ConfChangeException(id + " is in LearnersNext, but not Voters[1]");
      }
      if (t.progress.get(id).isLearner) {
        throw new ConfChangeException(id + " is in LearnersNext, but is already marked as learner");
      }
    }
    for (long id : t.learners) {
      if (t.outgoing.contains(id)) {
        throw new ConfChangeException(id + " is in Learners and Voters[1]");
      }
      if (t.incoming.contains(id)) {
        throw new ConfChangeException(id + " is in Learners and Voters[0]");
      }
      if (!t.progress.get(id).isLearner) {
        throw new ConfChangeException(id + " is in Learners, but is not marked as learner");
      }
    }
    if (!t.isJoint()) {
      if (!t.learnersNext.isEmpty()) {
        throw new ConfChangeException("cfg.LearnersNext must be nil when not joint");
      }
      if (t.autoLeave) {
        throw new ConfChangeException("AutoLeave must be false when not joint");
      }
    }
  }
}
