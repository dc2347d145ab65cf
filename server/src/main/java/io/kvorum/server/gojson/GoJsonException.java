package io.kvorum.server.gojson;

/** Input that Go's {@code encoding/json} refuses, with the text Go gives. */
public final class GoJsonException extends Exception {
  private static final long serialVersionUID = 1L;

  public GoJsonException(String message) {
    super(message);
  }
}
