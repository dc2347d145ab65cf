package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.server.storage.ConsistentIndex;
import java.util.List;

/**
 * The cluster's raised alarms as applied (etcd's {@code v3alarm.AlarmStore}): what the alarm link
 * reads for every request and what applying an {@code Alarm} request changes. An alarm is raised
 * and disarmed only through the log, so every member holds the same ones. Kept in the backend by
 * the member ({@code io.kvorum.server.alarm.AlarmStore}).
 *
 * <p>An alarm is one member id and one alarm type, by the type's number: a type this version does
 * not know (or NONE) is kept as it came, as etcd keeps it.
 */
public interface Alarms {
  /** Whether a CORRUPT alarm is raised: the cluster refuses every KV and lease request. */
  boolean corrupt();

  /** Whether a NOSPACE alarm is raised: the cluster refuses writes that add data. */
  boolean noSpace();

  /**
   * The raised alarms of type {@code type}, or every raised alarm when it is 0 (NONE), ordered by
   * type and then member id.
   */
  List<AlarmMember> list(int type);

  /**
   * Raises {@code alarm} as part of entry {@code at}; raising one that is raised already changes
   * nothing.
   *
   * @return the alarm as raised now (the one raised before, if any)
   */
  AlarmMember activate(ConsistentIndex at, AlarmMember alarm);

  /**
   * Disarms {@code alarm} as part of entry {@code at}.
   *
   * @return the alarm disarmed, or null if it was not raised
   */
  AlarmMember deactivate(ConsistentIndex at, AlarmMember alarm);
}
