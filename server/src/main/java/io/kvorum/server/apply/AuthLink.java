package io.kvorum.server.apply;

/**
 * The auth link (etcd's {@code authApplierV3}): checks again, at apply time and against the auth
 * store's current revision, that the request's user may do what it asks. Kvorum has no auth store
 * yet (the Auth service answers Unimplemented and every request carries no user), so every request
 * passes; the auth issue fills this link.
 */
final class AuthLink extends ApplierLink {
  AuthLink(RequestApplier next) {
    super(next);
  }
}
