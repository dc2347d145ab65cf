package io.kvorum.raft;

/** One membership step of a {@link ConfChange}. */
public record ConfChangeSingle(ConfChangeType type, long nodeId) {}
