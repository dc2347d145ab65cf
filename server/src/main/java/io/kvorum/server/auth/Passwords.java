package io.kvorum.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * bcrypt, as etcd hashes passwords (Go's {@code x/crypto/bcrypt}: the {@code $2a$} variant, the
 * password's UTF-8 bytes, a 16-byte random salt). A hash costs 2^cost rounds — about 65 ms at
 * etcd's default cost of 10 on these machines — so callers keep it off the event loops and the
 * apply thread. Passwords and hashes are never logged.
 */
public final class Passwords {
  /** bcrypt's bounds on the cost; etcd falls back to {@link #DEFAULT_COST} outside them. */
  public static final int MIN_COST = 4;
  public static final int MAX_COST = 31;
  public static final int DEFAULT_COST = 10;
  private static final int SALT_BYTES = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final int cost;

  /** Hashes at {@code cost}, which must lie within bcrypt's bounds (see {@link #validCost}). */
  public Passwords(int cost) {
    if (cost < MIN_COST || cost > MAX_COST) {
      throw new IllegalArgumentException("bcrypt cost " + cost + " outside [" + MIN_COST + ", " + MAX_COST + "]");
    }
    this.cost = cost;
  }

  /** Whether bcrypt accepts {@code cost}. */
  public static boolean validCost(int cost) {
    return cost >= MIN_COST && cost <= MAX_COST;
  }

  public int cost() {
    return cost;
  }

  /** The bcrypt hash of {@code password} ({@code $2a$cost$...}, 60 ASCII bytes). */
  public byte[] hash(String password) {
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    String h = OpenBSDBCrypt.generate("2a", password.getBytes(StandardCharsets.UTF_8), salt, cost);
    return h.getBytes(StandardCharsets.US_ASCII);
  }

  /** Whether {@code password} matches {@code hash}; false for an empty or malformed hash. */
  public static boolean matches(byte[] hash, String password) {
    if (hash == null || hash.length == 0) {
      return false;
    }
    try {
      return OpenBSDBCrypt.checkPassword(new String(hash, StandardCharsets.US_ASCII),
          password.getBytes(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
