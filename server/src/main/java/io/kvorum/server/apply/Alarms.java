package io.kvorum.server.apply;

/**
 * The cluster's active alarms, as applied (the alarm link reads them for every request). Kept by
 * the member; an alarm is raised and disarmed through the log, so every member sees the same.
 */
public interface Alarms {
  /** Whether a member reported its data corrupt: the cluster refuses every KV and lease request. */
  boolean corrupt();

  /** Whether a member ran out of backend quota: the cluster refuses writes that add data. */
  boolean noSpace();

  /** No alarm is ever active. */
  Alarms NONE = new Alarms() {
    @Override
    public boolean corrupt() {
      return false;
    }

    @Override
    public boolean noSpace() {
      return false;
    }
  };
}
