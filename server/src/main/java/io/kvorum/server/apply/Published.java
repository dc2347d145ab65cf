package io.kvorum.server.apply;

/** A member's attributes were applied: every member now lists its name and client URLs. */
public record Published(long memberId) {}
