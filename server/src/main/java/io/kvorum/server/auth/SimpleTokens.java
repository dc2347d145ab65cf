package io.kvorum.server.auth;

import io.kvorum.server.clock.Clock;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * etcd's {@code simple} tokens: {@code <16 random letters>.<log index>}, registered by every member
 * when it applies the authentication, so a token is valid on every member once that member applied
 * its entry (a member that has not yet waits for the index: {@link #appliedIndexNeeded}).
 *
 * <p>Each member keeps its own time to live per token ({@code --auth-token-ttl}), restarted by
 * every use, on the member's clock; a sweep every {@link #SWEEP} forgets the expired ones, so a
 * token unused for longer than its TTL (plus up to one sweep) is gone. Tokens live in memory only:
 * a restarted member knows none, as in etcd. Disabling auth forgets all of them; deleting a user or
 * changing its password forgets that user's.
 *
 * <p>The number of live tokens is bounded by the rate of authentications times the TTL; etcd has no
 * other bound and neither has this.
 */
public final class SimpleTokens implements TokenProvider {
  /** How often expired tokens are forgotten (etcd's {@code simpleTokenTTLResolution}). */
  static final Duration SWEEP = Duration.ofSeconds(1);
  /** etcd's default TTL, used when the configured one is not positive. */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(300);
  private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final int PREFIX_LENGTH = 16;

  private record Entry(String user, long expiresAtNanos) {}

  private final Clock clock;
  private final long ttlNanos;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Entry> tokens = new HashMap<>();
  private boolean enabled;
  private Clock.Timer sweeper;

  public SimpleTokens(Clock clock, Duration ttl) {
    this.clock = clock;
    this.ttlNanos = (ttl.isZero() || ttl.isNegative() ? DEFAULT_TTL : ttl).toNanos();
  }

  @Override
  public String newPrefix() {
    StringBuilder b = new StringBuilder(PREFIX_LENGTH);
    for (int i = 0; i < PREFIX_LENGTH; i++) {
      b.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
    }
    return b.toString();
  }

  @Override
  public synchronized String register(String user, String prefix, long index) {
    String token = prefix + "." + index;
    if (!enabled) {
      // etcd registers nothing while its TTL keeper is stopped; auth is then disabled anyway.
      return token;
    }
    // The index makes a token unique; the same entry applied again (replayed after a restart, when
    // it changed nothing in the backend) registers the same token again.
    tokens.put(token, new Entry(user, clock.nanos() + ttlNanos));
    return token;
  }

  @Override
  public String issue(String user, long revision, String registered) {
    return registered;
  }

  @Override
  public long appliedIndexNeeded(String token) {
    long index = indexOf(token);
    return Math.max(index, 0);
  }

  /** The index part of a well-formed token ({@code prefix.index}), or -1. */
  private static long indexOf(String token) {
    int dot = token.indexOf('.');
    if (dot < 0 || token.indexOf('.', dot + 1) >= 0) {
      return -1;
    }
    try {
      long i = Long.parseLong(token.substring(dot + 1));
      return i < 0 ? -1 : i;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public synchronized AuthInfo info(String token, long currentRevision) {
    if (indexOf(token) < 0) {
      return null;
    }
    Entry e = tokens.get(token);
    if (e == null) {
      return null;
    }
    long now = clock.nanos();
    if (now - e.expiresAtNanos() > 0) {
      tokens.remove(token);
      return null;
    }
    tokens.put(token, new Entry(e.user(), now + ttlNanos));
    return new AuthInfo(e.user(), currentRevision);
  }

  @Override
  public synchronized void enable() {
    if (enabled) {
      return;
    }
    enabled = true;
    sweeper = clock.scheduleEvery(SWEEP, this::sweep);
  }

  @Override
  public synchronized void disable() {
    enabled = false;
    tokens.clear();
    if (sweeper != null) {
      sweeper.cancel();
      sweeper = null;
    }
  }

  @Override
  public synchronized void invalidateUser(String user) {
    tokens.values().removeIf(e -> e.user().equals(user));
  }

  /** Forgets every token whose time to live ran out. */
  synchronized void sweep() {
    long now = clock.nanos();
    for (Iterator<Entry> it = tokens.values().iterator(); it.hasNext(); ) {
      if (now - it.next().expiresAtNanos() > 0) {
        it.remove();
      }
    }
  }

  /** Live tokens, for tests. */
  synchronized int size() {
    return tokens.size();
  }
}
