package io.kvorum.server.wal;

/** The WAL holds data that cannot be trusted; the member must stop rather than guess. */
public final class WalCorruptException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WalCorruptException(String message) {
    super(message);
  }
}
