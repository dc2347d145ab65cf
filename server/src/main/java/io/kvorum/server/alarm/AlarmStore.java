package io.kvorum.server.alarm;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.server.apply.Alarms;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The raised alarms (etcd's {@code v3alarm.AlarmStore}): one record per alarm in the backend's
 * {@code alarm} bucket, written in the batch of the entry that raised or disarmed it, and an
 * immutable sorted list in memory that any thread reads without a lock. Changed only by the apply
 * thread; read again from the backend after a snapshot replaced it.
 */
public final class AlarmStore implements Alarms {
  private static final Comparator<AlarmMember> ORDER = Comparator.comparingInt(AlarmMember::getAlarmValue)
      .thenComparing(AlarmMember::getMemberID, Long::compareUnsigned);

  private final Backend backend;
  private volatile List<AlarmMember> raised = List.of();

  /** The alarms in {@code backend}'s alarm bucket, as they are now. */
  public AlarmStore(Backend backend) {
    this.backend = backend;
    reload();
  }

  /** Reads the alarms again from the backend (after a snapshot replaced its content). */
  public void reload() {
    List<AlarmMember> found = new ArrayList<>();
    try (ReadView v = backend.snapshotView()) {
      v.scan(Bucket.ALARM, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        long[] idAndType = Schema.readAlarmKey(k);
        found.add(alarm(idAndType[0], (int) idAndType[1]));
        return true;
      });
    }
    found.sort(ORDER);
    raised = List.copyOf(found);
  }

  private static AlarmMember alarm(long memberId, int type) {
    return AlarmMember.newBuilder().setMemberID(memberId).setAlarmValue(type).build();
  }

  /** Every raised alarm, ordered by type and then member id. */
  public List<AlarmMember> all() {
    return raised;
  }

  @Override
  public boolean corrupt() {
    return any(AlarmType.CORRUPT_VALUE);
  }

  @Override
  public boolean noSpace() {
    return any(AlarmType.NOSPACE_VALUE);
  }

  private boolean any(int type) {
    for (AlarmMember m : raised) {
      if (m.getAlarmValue() == type) {
        return true;
      }
    }
    return false;
  }

  @Override
  public List<AlarmMember> list(int type) {
    List<AlarmMember> all = raised;
    if (type == AlarmType.NONE_VALUE) {
      return all;
    }
    List<AlarmMember> out = new ArrayList<>();
    for (AlarmMember m : all) {
      if (m.getAlarmValue() == type) {
        out.add(m);
      }
    }
    return out;
  }

  private AlarmMember find(AlarmMember alarm) {
    for (AlarmMember m : raised) {
      if (m.getAlarmValue() == alarm.getAlarmValue() && m.getMemberID() == alarm.getMemberID()) {
        return m;
      }
    }
    return null;
  }

  @Override
  public AlarmMember activate(ConsistentIndex at, AlarmMember alarm) {
    AlarmMember found = find(alarm);
    if (found != null) {
      return found;
    }
    AlarmMember m = alarm(alarm.getMemberID(), alarm.getAlarmValue());
    try (Batch b = backend.newBatch()) {
      b.put(Bucket.ALARM, Schema.alarmKey(m.getMemberID(), m.getAlarmValue()), new byte[0]);
      b.setConsistentIndex(at);
      backend.commit(b);
    }
    List<AlarmMember> next = new ArrayList<>(raised);
    next.add(m);
    next.sort(ORDER);
    raised = List.copyOf(next);
    return m;
  }

  @Override
  public AlarmMember deactivate(ConsistentIndex at, AlarmMember alarm) {
    AlarmMember found = find(alarm);
    if (found == null) {
      return null;
    }
    try (Batch b = backend.newBatch()) {
      b.delete(Bucket.ALARM, Schema.alarmKey(found.getMemberID(), found.getAlarmValue()));
      b.setConsistentIndex(at);
      backend.commit(b);
    }
    List<AlarmMember> next = new ArrayList<>(raised);
    next.remove(found);
    raised = List.copyOf(next);
    return found;
  }
}
