package io.kvorum.raft;

import java.util.List;

/**
 * What raft reads of the durable log. The caller writes to it while handling a {@link Ready}; raft
 * only reads.
 *
 * <p>Guarantees a durable implementation (the server's WAL) must give: {@link #initialState()} and
 * every entry returned reflect only data that was fsynced before the Ready that produced it was
 * acknowledged; a crash in the middle of a write leaves a readable prefix (each record carries a
 * CRC, and a torn tail is cut off on start); a snapshot is durable before the log before it is
 * dropped.
 */
public interface Storage {
  /** The persisted hard state and the configuration as of the last snapshot or log entry. */
  InitialState initialState();

  /**
   * Entries in [lo, hi), at least one if any are in range, stopping before {@code maxSizeBytes} is
   * exceeded.
   *
   * @throws RaftException.Compacted if lo is before {@link #firstIndex()}
   * @throws RaftException.Unavailable if hi is past {@link #lastIndex()} + 1
   */
  List<Entry> entries(long lo, long hi, long maxSizeBytes);

  /**
   * The term of entry {@code i}; {@code firstIndex()-1} answers the snapshot's term.
   *
   * @throws RaftException.Compacted if i is before the snapshot
   * @throws RaftException.Unavailable if i is past the last entry
   */
  long term(long i);

  long lastIndex();

  /** The index of the first entry that may be read; entries before it are compacted. */
  long firstIndex();

  /** The latest snapshot, to send to a member that is too far behind. */
  Snapshot snapshot();

  /**
   * Hard state and configuration recovered at start.
   *
   * @param confIndex the log index at which {@code confState} is in force (the snapshot's index):
   *     membership changes after it and up to the applied index are replayed on start
   */
  record InitialState(HardState hardState, ConfState confState, long confIndex) {}
}
