package io.kvorum.raft;

/**
 * The answer to a ReadIndex request: once the member has applied {@code index}, a read that started
 * when the request was made may be served locally and is linearizable. {@code requestCtx} is the
 * caller's identifier of the request.
 */
public record ReadState(long index, byte[] requestCtx) {}
