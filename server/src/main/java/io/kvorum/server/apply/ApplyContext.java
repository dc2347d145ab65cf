package io.kvorum.server.apply;

import io.kvorum.server.storage.ConsistentIndex;

/**
 * What every link of the applier chain knows about the entry it applies: its place in the log
 * (persisted with its effects), the proposer's request id, and who asked (the user and the auth
 * revision the proposer checked against, which the auth link checks again).
 *
 * @param index the entry's log index and term
 * @param requestId the proposing member's request id (0 for an entry nobody waits for)
 * @param user the authenticated user, empty without auth
 * @param authRevision the auth store's revision the proposer saw, 0 without auth
 */
public record ApplyContext(ConsistentIndex index, long requestId, String user, long authRevision) {}
