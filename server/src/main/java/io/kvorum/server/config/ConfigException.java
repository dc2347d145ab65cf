package io.kvorum.server.config;

/** A configuration value etcd would refuse; the message is the one etcd prints. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
