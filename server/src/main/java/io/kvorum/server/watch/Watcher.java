package io.kvorum.server.watch;

import io.kvorum.proto.mvccpb.Event;
import io.kvorum.server.mvcc.KeyRange;

/**
 * One watcher of a stream. Its mutable fields belong to the hub thread; the options are fixed at
 * creation. Kept small: a member may hold hundreds of thousands.
 */
final class Watcher {
  final WatchStream stream;
  final long id;
  final KeyRange range;
  final boolean noPut;
  final boolean noDelete;
  final boolean prevKv;
  final boolean fragment;
  final boolean progressNotify;

  /** The first revision this watcher has not been sent yet (hub thread). */
  long nextRev;
  /** Whether it is in the hub's synced index (hub thread). */
  boolean synced;
  boolean canceled;
  /** Whether something was sent since the last progress tick (hub thread). */
  boolean sentSinceProgress;

  Watcher(WatchStream stream, long id, KeyRange range, boolean noPut, boolean noDelete, boolean prevKv,
      boolean fragment, boolean progressNotify, long nextRev) {
    this.stream = stream;
    this.id = id;
    this.range = range;
    this.noPut = noPut;
    this.noDelete = noDelete;
    this.prevKv = prevKv;
    this.fragment = fragment;
    this.progressNotify = progressNotify;
    this.nextRev = nextRev;
  }

  /** Whether {@code e} passes this watcher's range and filters. */
  boolean wants(Event e) {
    if (e.getType() == Event.EventType.PUT ? noPut : noDelete) {
      return false;
    }
    return range.contains(e.getKv().getKey());
  }
}
