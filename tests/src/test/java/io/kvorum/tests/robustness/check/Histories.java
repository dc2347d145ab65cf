package io.kvorum.tests.robustness.check;

/** Short constructors for hand-written histories: client, invoke and complete times, then the request and response. */
final class Histories {
  private Histories() {}

  static Operation put(int client, long invoke, long complete, String key, String value, long revision) {
    return Operation.completed(client, invoke, complete, new Request.Put(key, value), new Response.Put(revision));
  }

  static Operation putUnknown(int client, long invoke, String key, String value) {
    return Operation.unknown(client, invoke, new Request.Put(key, value));
  }

  /** A get that saw {@code value} (null: absent) at {@code modRevision}, with header {@code revision}. */
  static Operation get(int client, long invoke, long complete, String key, String value, long modRevision, long revision) {
    return Operation.completed(client, invoke, complete, new Request.Get(key), new Response.Get(value, modRevision, revision));
  }

  static Operation delete(int client, long invoke, long complete, String key, boolean deleted, long revision) {
    return Operation.completed(client, invoke, complete, new Request.Delete(key), new Response.Delete(deleted, revision));
  }

  static Operation cas(int client, long invoke, long complete, String key, long expected, String value,
      boolean succeeded, long revision) {
    return Operation.completed(client, invoke, complete, new Request.CompareAndSet(key, expected, value),
        new Response.CompareAndSet(succeeded, revision));
  }
}
