package io.kvorum.server.mvcc;

/**
 * An MVCC error a client caused or can act on. The message is etcd's text, word for word: clients
 * match on it, and the API edge translates each subtype to etcd's gRPC status once.
 */
public abstract class MvccException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MvccException(String message) {
    super(message);
  }
}
