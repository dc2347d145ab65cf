package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.ResponseHeader;

/**
 * An authentication as applied: the member that proposed it turns it into the client's token
 * (signing a JWT there rather than on every member).
 *
 * @param header the response header at apply
 * @param user the authenticated user
 * @param revision the auth store's revision at apply (what a JWT carries)
 * @param registered the simple token registered on every member, empty for a JWT
 */
public record Authenticated(ResponseHeader header, String user, long revision, String registered) {}
