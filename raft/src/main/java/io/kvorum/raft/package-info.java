/**
 * Raft consensus as a pure, deterministic state machine: the caller ticks it, steps messages into it,
 * takes {@link io.kvorum.raft.Ready} batches (state to persist, messages to send, entries to apply)
 * and calls {@link io.kvorum.raft.RawNode#advance()}. No threads, clock, I/O or hidden randomness.
 *
 * <p>The design follows etcd's raft library: pre-vote, check-quorum, per-follower progress with
 * probe/replicate/snapshot states and an inflight window, joint consensus with learners, ReadIndex
 * (safe and lease-based), leader transfer and snapshots.
 */
package io.kvorum.raft;
