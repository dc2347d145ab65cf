package io.kvorum.raft;

/** Volatile state that is useful to the caller (leader, role) but never persisted. */
public record SoftState(long lead, StateType raftState) {}
