package io.kvorum.raft;

/** What a log entry carries: application data, or a membership change the application must apply. */
public enum EntryType {
  /** Opaque application data; an empty payload is the leader's no-op entry of a new term. */
  NORMAL,
  /** A {@link ConfChange} encoded with {@link ConfChange#encode()}. */
  CONF_CHANGE
}
