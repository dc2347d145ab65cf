package io.kvorum.server.auth;

import io.kvorum.server.clock.Clock;
import io.kvorum.server.config.ConfigException;
import io.kvorum.server.errors.EtcdError;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The token provider {@code --auth-token} names, built as etcd's {@code NewTokenProvider} builds it. */
public final class Tokens {
  private static final Logger LOG = LoggerFactory.getLogger(Tokens.class);

  private Tokens() {}

  /**
   * {@code simple}, {@code jwt,<options>}, or empty (no tokens: users authenticate by client
   * certificate only); anything else is refused with etcd's {@code auth: invalid auth options}.
   *
   * @param simpleTtl {@code --auth-token-ttl}, for simple tokens
   */
  public static TokenProvider fromFlag(String flag, Duration simpleTtl, Clock clock) {
    JwtOptions.Split split = JwtOptions.split(flag == null ? "" : flag);
    switch (split.type()) {
      case "simple" -> {
        LOG.warn("simple token is not cryptographically signed");
        return new SimpleTokens(clock, simpleTtl);
      }
      case "jwt" -> {
        return JwtTokens.fromOptions(split.options(), clock);
      }
      case "" -> {
        return new NoTokens();
      }
      default -> {
        LOG.warn("unknown token type {}", split.type());
        throw new ConfigException("auth: invalid auth options");
      }
    }
  }

  /** etcd's {@code tokenNop}: no token is valid and none is handed out. */
  static final class NoTokens implements TokenProvider {
    @Override
    public String newPrefix() {
      return "";
    }

    @Override
    public String register(String user, String prefix, long index) {
      return "";
    }

    @Override
    public String issue(String user, long revision, String registered) {
      throw EtcdError.AUTH_FAILED.exception();
    }

    @Override
    public long appliedIndexNeeded(String token) {
      return 0;
    }

    @Override
    public AuthInfo info(String token, long currentRevision) {
      return null;
    }

    @Override
    public void enable() {}

    @Override
    public void disable() {}

    @Override
    public void invalidateUser(String user) {}
  }
}
