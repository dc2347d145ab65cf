package io.kvorum.server.mvcc;

import io.kvorum.proto.mvccpb.Event;
import java.util.List;

/** The changes of one main revision, in sub-revision order (what a watcher receives at once). */
public record RevisionEvents(long revision, List<Event> events) {}
