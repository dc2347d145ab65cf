package io.kvorum.server.auth;

/**
 * Who asks, as a token or a client certificate names them: the user, and the auth store's
 * revision the credential stands for (a JWT carries the revision it was issued at; a simple token
 * or a certificate takes the store's revision when the request arrives). A request whose revision
 * is older than the store's when it is checked fails with etcd's old-revision error.
 *
 * @param user the user name (never empty)
 * @param revision the auth revision (at least 1)
 */
public record AuthInfo(String user, long revision) {}
