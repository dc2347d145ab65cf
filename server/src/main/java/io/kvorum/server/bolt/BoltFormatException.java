package io.kvorum.server.bolt;

import java.io.IOException;

/** A file that is not a valid bbolt database, or that is corrupt; the message says what is wrong and where. */
public class BoltFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public BoltFormatException(String message) {
    super(message);
  }

  public BoltFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
