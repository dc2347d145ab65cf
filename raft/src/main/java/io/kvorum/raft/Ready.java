package io.kvorum.raft;

import java.util.List;

/**
 * One batch of work for the caller. Handle it in this order: persist {@code hardState},
 * {@code entries} and {@code snapshot} (fsync when {@link #mustSync()}); then send
 * {@code messages}; then apply {@code snapshot} and {@code committedEntries} to the state machine;
 * then call {@link RawNode#advance()}. Null fields mean "no change".
 */
public record Ready(
    SoftState softState,
    HardState hardState,
    List<ReadState> readStates,
    List<Entry> entries,
    Snapshot snapshot,
    List<Entry> committedEntries,
    List<Message> messages,
    boolean mustSync) {

  public boolean containsUpdates() {
    return softState != null
        || hardState != null
        || snapshot != null
        || !entries.isEmpty()
        || !committedEntries.isEmpty()
        || !messages.isEmpty()
        || !readStates.isEmpty();
  }
}
