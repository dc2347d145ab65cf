package io.kvorum.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.util.Base64URL;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.config.ConfigException;
import io.kvorum.server.errors.EtcdError;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's {@code jwt} token provider ({@code --auth-token jwt,sign-method=…}): signed tokens any
 * member verifies by itself, with nothing registered and nothing forgotten.
 *
 * <p><b>Tokens.</b> Byte for byte what etcd 3.4 signs with Go's jwt library v3: the header
 * {@code {"alg":…,"typ":"JWT"}} in that order, and the claims {@code exp} (seconds since the epoch:
 * the wall clock plus the time to live, floored to a whole second as Go's
 * {@code time.Now().Add(ttl).Unix()}), {@code revision} (the auth store's revision at issue) and
 * {@code username}, in Go's sorted key order. nimbus-jose-jwt signs, verifies and serialises; no
 * signature is computed here. HS secrets shorter than nimbus accepts are zero-padded, which by
 * RFC 2104 leaves every MAC unchanged ({@link JwtOptions} says why).
 *
 * <p><b>Verifying</b> ({@link #info}) follows Go's {@code jwt.Parse} with etcd's key function: the
 * header's {@code alg} must be the configured method (no token signed with another algorithm is
 * tried, which rules out the RS-to-HS key confusion), the signature must verify, and the time
 * claims must hold on {@link Clock#wallMillis()} in whole seconds: now at or before {@code exp},
 * not before {@code iat} or {@code nbf}; a time claim that is absent or 0 passes and one that is
 * not a number fails, as in Go's {@code MapClaims.Valid}. Then {@code username} must be a
 * non-empty string and {@code revision} a number of at least 1: etcd would panic on a mistyped
 * claim, and neither it nor Kvorum issues an empty user or revision 0, so such a token is refused
 * ({@link AuthInfo}'s contract). Any failure gives null; the refusal is logged with its reason,
 * never with the token.
 *
 * <p><b>Known differences.</b> A PS token signed with a salt other than the hash's length (Go signs
 * with that length but verifies with any) is refused; so is a header with a {@code crit} parameter,
 * and a time claim beyond a long's range (Go's conversion of it depends on the processor).
 *
 * <p>Thread-safe: every field is immutable, and nimbus's signers and verifiers are thread-safe.
 */
public final class JwtTokens implements TokenProvider {
  private static final Logger LOG = LoggerFactory.getLogger(JwtTokens.class);

  private final Clock clock;
  private final JWSAlgorithm method;
  /** Go's header, parsed from its own bytes so that nimbus serialises exactly those. */
  private final JWSHeader header;
  private final Duration ttl;
  /** Null in verify-only mode (only a public key given). */
  private final JWSSigner signer;
  private final JWSVerifier verifier;

  private JwtTokens(Clock clock, JWSAlgorithm method, Duration ttl, JwtOptions.Keys keys) {
    this.clock = clock;
    this.method = method;
    this.ttl = ttl;
    this.signer = keys.signer();
    this.verifier = keys.verifier();
    try {
      this.header = JWSHeader.parse(Base64URL.encode("{\"alg\":\"" + method.getName() + "\",\"typ\":\"JWT\"}"));
    } catch (ParseException e) {
      throw new IllegalStateException("nimbus refused a JWS header for " + method, e);
    }
  }

  /**
   * A provider from the {@code jwt} options of {@code --auth-token} (what {@link JwtOptions#split}
   * gives after the type).
   *
   * @param opts {@code sign-method}, {@code pub-key}, {@code priv-key}, {@code ttl}
   * @param clock the member's clock: {@code exp} is set and checked on its wall time
   * @throws ConfigException with etcd's message ({@code auth: invalid auth options}, {@code auth:
   *     missing key data}, {@code auth: public and private keys don't match})
   */
  public static JwtTokens fromOptions(Map<String, String> opts, Clock clock) {
    Objects.requireNonNull(opts, "opts");
    Objects.requireNonNull(clock, "clock");
    JwtOptions options = JwtOptions.parse(opts);
    JwtTokens tokens = new JwtTokens(clock, options.method(), options.ttl(), options.keys());
    tokens.checkSigning();
    return tokens;
  }

  /**
   * Signs a token and verifies it, so that a key the method cannot use (an RSA key too short for
   * PS512) fails the start rather than every authentication, as it would in etcd.
   */
  private void checkSigning() {
    if (signer == null) {
      return;
    }
    try {
      JWSObject probe = new JWSObject(header, new Payload(claims("probe", 1)));
      probe.sign(signer);
      if (JWSObject.parse(probe.serialize()).verify(verifier)) {
        return;
      }
      LOG.warn("auth: a JWT signed with the {} key does not verify with it", method.getName());
    } catch (JOSEException | ParseException | RuntimeException e) {
      LOG.warn("auth: the key cannot sign {} tokens: {}", method.getName(), e.getClass().getSimpleName());
    }
    throw new ConfigException(JwtOptions.INVALID_AUTH_OPTS);
  }

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
    if (signer == null) {
      throw EtcdError.AUTH_VERIFY_ONLY.exception();
    }
    JWSObject token = new JWSObject(header, new Payload(claims(user, revision)));
    try {
      token.sign(signer);
    } catch (JOSEException | RuntimeException e) {
      // The key signed at start (checkSigning), so this is a defect, not a configuration error.
      LOG.error("auth: failed to sign a JWT for user {}", user, e);
      throw EtcdError.INTERNAL.exception();
    }
    return token.serialize();
  }

  /** The claims of a token issued now, in Go's order (its JSON encoder sorts map keys). */
  private Map<String, Object> claims(String user, long revision) {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("exp", expiry(clock.wallMillis(), ttl));
    claims.put("revision", revision);
    claims.put("username", user);
    return claims;
  }

  /** Go's {@code time.Now().Add(ttl).Unix()}: the sum, floored to whole seconds. */
  static long expiry(long wallMillis, Duration ttl) {
    long seconds = Math.floorDiv(wallMillis, 1000) + ttl.getSeconds();
    long nanos = Math.floorMod(wallMillis, 1000) * 1_000_000L + ttl.getNano();
    return seconds + nanos / 1_000_000_000L;
  }

  @Override
  public long appliedIndexNeeded(String token) {
    return 0;
  }

  @Override
  public AuthInfo info(String token, long currentRevision) {
    if (token == null) {
      return null;
    }
    try {
      JWSObject parsed = JWSObject.parse(token);
      if (!method.equals(parsed.getHeader().getAlgorithm())) {
        return refused("it is not signed with " + method.getName());
      }
      if (!parsed.verify(verifier)) {
        return refused("its signature does not verify");
      }
      Map<String, Object> claims = parsed.getPayload().toJSONObject();
      if (claims == null) {
        return refused("its claims are not a JSON object");
      }
      long now = Math.floorDiv(clock.wallMillis(), 1000);
      if (!timeClaimHolds(claims, "exp", exp -> now <= exp)) {
        return refused("it is expired");
      }
      if (!timeClaimHolds(claims, "iat", iat -> now >= iat)) {
        return refused("it is used before it was issued");
      }
      if (!timeClaimHolds(claims, "nbf", nbf -> now >= nbf)) {
        return refused("it is not valid yet");
      }
      if (!(claims.get("username") instanceof String user) || user.isEmpty()) {
        return refused("its username claim is not a non-empty string");
      }
      Long revision = wholeNumber(claims.get("revision"));
      if (revision == null || revision < 1) {
        return refused("its revision claim is not a number of at least 1");
      }
      return new AuthInfo(user, revision);
    } catch (ParseException | JOSEException | RuntimeException e) {
      return refused("it does not parse (" + e.getClass().getSimpleName() + ")");
    }
  }

  /**
   * Go jwt v3's check of one time claim in a {@code MapClaims}: absent or 0 passes, a number is
   * truncated to whole seconds and tested, anything else fails.
   */
  private static boolean timeClaimHolds(Map<String, Object> claims, String name, LongPredicate holds) {
    if (!claims.containsKey(name)) {
      return true;
    }
    Long seconds = wholeNumber(claims.get(name));
    return seconds != null && (seconds == 0 || holds.test(seconds));
  }

  /** A JSON number truncated toward zero, as Go converts a float64 to an integer; null if none. */
  private static Long wholeNumber(Object value) {
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof Integer i) {
      return i.longValue();
    }
    if (value instanceof Number n) {
      double d = n.doubleValue();
      // Also false for NaN; a long holds [-2^63, 2^63).
      if (d >= -0x1p63 && d < 0x1p63) {
        return (long) d;
      }
    }
    return null;
  }

  private static AuthInfo refused(String why) {
    LOG.warn("auth: invalid JWT: {}", why);
    return null;
  }

  @Override
  public void enable() {}

  @Override
  public void disable() {}

  @Override
  public void invalidateUser(String user) {}
}
