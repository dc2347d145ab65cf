package io.kvorum.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.crypto.opts.AllowWeakRSAKey;
import com.nimbusds.jose.jwk.Curve;
import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.GoDuration;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code --auth-token} flag: its split into a token type and {@code key=value} options
 * (etcd's {@code decomposeOpts}), and the options of the {@code jwt} type (etcd's
 * {@code auth/options.go}) resolved into a sign method, a time to live and the keys that sign and
 * verify.
 *
 * <p><b>Options.</b> {@code sign-method} (required; HS256/384/512, RS256/384/512, PS256/384/512,
 * ES256/384/512), {@code pub-key} and {@code priv-key} (files), {@code ttl} (a Go duration,
 * 5 minutes when absent or empty). Unknown keys are logged and ignored, as etcd does. Every refusal
 * is etcd's error text; the detail goes to the log (a file name, never the key material).
 *
 * <p><b>Keys.</b> HS*: the whole {@code priv-key} file is the HMAC secret, of any length (etcd
 * accepts short secrets; see {@link #hmacKeys} for how nimbus is made to take them). RS*, PS*: RSA
 * keys; ES*: EC keys on the method's curve; each from PEM ({@code PUBLIC KEY}, {@code RSA PUBLIC
 * KEY} or a {@code CERTIFICATE} for the public key; {@code RSA PRIVATE KEY}, {@code EC PRIVATE KEY}
 * or PKCS#8 {@code PRIVATE KEY} for the private one; text around the block is skipped, and an
 * {@code EC PARAMETERS} block before an EC key too). With the private key the public half is
 * derived from it, as Go does; with only the public key the provider is verify-only.
 *
 * <p><b>Where Kvorum differs from etcd 3.4.</b> etcd's check that the two keys match is written
 * with {@code &&} where it needs {@code ||}, so it almost never fires; Kvorum compares the modulus
 * and exponent (RSA) or the curve point (EC). etcd refuses {@code none} and {@code EdDSA}, and a
 * key that does not parse, with its JWT library's own text; Kvorum with {@code auth: invalid auth
 * options}. etcd starts with a key the method cannot use (an ES256 method with a P-384 key, PS512
 * with a 1024-bit RSA key) and then fails every authentication; Kvorum refuses it at start. A key
 * file over {@link #KEY_FILE_BYTES_MAX} is refused.
 */
public final class JwtOptions {
  private static final Logger LOG = LoggerFactory.getLogger(JwtOptions.class);

  static final String SIGN_METHOD = "sign-method";
  static final String PUB_KEY = "pub-key";
  static final String PRIV_KEY = "priv-key";
  static final String TTL = "ttl";
  private static final List<String> KNOWN_OPTIONS = List.of(SIGN_METHOD, PUB_KEY, PRIV_KEY, TTL);

  /** The token time to live when {@code ttl} is absent or empty (etcd's {@code DefaultTTL}). */
  static final Duration TTL_DEFAULT = Duration.ofMinutes(5);
  /** Largest key file read; real keys and secrets are a few KiB. */
  static final int KEY_FILE_BYTES_MAX = 1 << 20;

  /** etcd's {@code ErrInvalidAuthOpts}. */
  static final String INVALID_AUTH_OPTS = "auth: invalid auth options";
  /** etcd's {@code ErrMissingKey}. */
  static final String MISSING_KEY = "auth: missing key data";
  /** etcd's {@code ErrKeyMismatch}. */
  static final String KEY_MISMATCH = "auth: public and private keys don't match";

  /** The sign methods a JWT provider takes, by their {@code alg} name. */
  private static final Map<String, JWSAlgorithm> METHODS = methods();

  private final JWSAlgorithm method;
  private final Duration ttl;
  private final String pubKeyFile;
  private final String privKeyFile;
  /** The files' bytes; null when the option is absent, empty, or names an empty file (as in Go). */
  private final byte[] pubKey;
  private final byte[] privKey;

  private JwtOptions(JWSAlgorithm method, Duration ttl, String pubKeyFile, byte[] pubKey, String privKeyFile,
      byte[] privKey) {
    this.method = method;
    this.ttl = ttl;
    this.pubKeyFile = pubKeyFile;
    this.pubKey = pubKey;
    this.privKeyFile = privKeyFile;
    this.privKey = privKey;
  }

  /**
   * The {@code --auth-token} flag's value split as etcd splits it: the type before the first comma,
   * then {@code key=value} options.
   *
   * @param type {@code simple}, {@code jwt}, or anything else the caller refuses; empty when the
   *     flag is empty
   * @param options the options in flag order; the accessor returns a copy
   */
  public record Split(String type, LinkedHashMap<String, String> options) {
    public Split {
      Objects.requireNonNull(type, "type");
      options = new LinkedHashMap<>(options);
    }

    @Override
    public LinkedHashMap<String, String> options() {
      return new LinkedHashMap<>(options);
    }
  }

  /**
   * Splits {@code flag} on commas; every element after the first must be exactly one
   * {@code key=value} (an empty element, a bare key or a second {@code =} is refused) and no key may
   * repeat.
   *
   * @throws ConfigException {@code auth: invalid auth options}
   */
  public static Split split(String flag) {
    String[] parts = flag.split(",", -1);
    LinkedHashMap<String, String> opts = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String[] pair = parts[i].split("=", -1);
      if (pair.length != 2) {
        LOG.warn("auth: invalid token option {} in --auth-token {}", quote(parts[i]), quote(flag));
        throw new ConfigException(INVALID_AUTH_OPTS);
      }
      if (opts.containsKey(pair[0])) {
        LOG.warn("auth: duplicate token option {} in --auth-token {}", quote(pair[0]), quote(flag));
        throw new ConfigException(INVALID_AUTH_OPTS);
      }
      opts.put(pair[0], pair[1]);
    }
    return new Split(parts[0], opts);
  }

  /**
   * Resolves the {@code jwt} options (etcd's {@code ParseWithDefaults}): the time to live, the key
   * files' bytes and the sign method, in etcd's order; unknown keys are logged.
   *
   * @throws ConfigException {@code auth: invalid auth options}
   */
  static JwtOptions parse(Map<String, String> opts) {
    Duration ttl = TTL_DEFAULT;
    String ttlText = valueOf(opts, TTL);
    if (!ttlText.isEmpty()) {
      try {
        ttl = GoDuration.parse(ttlText);
      } catch (IllegalArgumentException e) {
        LOG.warn("auth: problem loading JWT options: {}", e.getMessage());
        throw new ConfigException(INVALID_AUTH_OPTS);
      }
    }
    String pubKeyFile = valueOf(opts, PUB_KEY);
    byte[] pubKey = pubKeyFile.isEmpty() ? null : readKeyFile(PUB_KEY, pubKeyFile);
    String privKeyFile = valueOf(opts, PRIV_KEY);
    byte[] privKey = privKeyFile.isEmpty() ? null : readKeyFile(PRIV_KEY, privKeyFile);
    String methodName = valueOf(opts, SIGN_METHOD);
    JWSAlgorithm method = METHODS.get(methodName);
    if (method == null) {
      LOG.warn("auth: problem loading JWT options: auth: invalid auth signature method {} (one of {} is needed)",
          quote(methodName), METHODS.keySet());
      throw new ConfigException(INVALID_AUTH_OPTS);
    }
    List<String> unknown = new ArrayList<>();
    for (String key : opts.keySet()) {
      if (!KNOWN_OPTIONS.contains(key)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      LOG.warn("auth: unknown JWT options {} are ignored", unknown);
    }
    return new JwtOptions(method, ttl, pubKeyFile, emptyToNull(pubKey), privKeyFile, emptyToNull(privKey));
  }

  JWSAlgorithm method() {
    return method;
  }

  Duration ttl() {
    return ttl;
  }

  /**
   * What signs and what verifies: the signer is null in verify-only mode.
   *
   * @param signer signs tokens with the private key or the HMAC secret; null without one
   * @param verifier verifies tokens with the public key or the HMAC secret
   */
  record Keys(JWSSigner signer, JWSVerifier verifier) {}

  /**
   * The keys for {@link #method()} from the key files (etcd's {@code Key}).
   *
   * @throws ConfigException {@code auth: missing key data} without a usable key, {@code auth:
   *     public and private keys don't match}, or {@code auth: invalid auth options} for a key that
   *     does not parse or does not fit the method
   */
  Keys keys() {
    if (JWSAlgorithm.Family.HMAC_SHA.contains(method)) {
      return hmacKeys();
    }
    if (JWSAlgorithm.Family.RSA.contains(method)) {
      return rsaKeys();
    }
    return ecKeys();
  }

  /**
   * The HMAC secret is the priv-key file, whatever its length (Go's jwt library takes any length;
   * the pub-key file is read but not used, as in etcd). nimbus refuses a secret shorter than the
   * method's hash (256 bits for HS256, 384 for HS384, 512 for HS512), so a shorter one is handed to
   * it padded with zero bytes to that length. By RFC 2104 HMAC pads every key shorter than the
   * hash's block (64 bytes for SHA-256, 128 for SHA-384/512) with zeros to the block's length
   * before use, and each minimum is within its block, so the padded secret gives exactly the MAC of
   * the secret as written: tokens stay interchangeable with etcd's, and nimbus still does the
   * signing, the constant-time comparison and the serialisation.
   */
  private Keys hmacKeys() {
    if (pubKey != null) {
      LOG.warn("auth: JWT {} file {} is not used with sign-method {}", PUB_KEY, pubKeyFile, method.getName());
    }
    if (privKey == null) {
      throw new ConfigException(MISSING_KEY);
    }
    int bytesMin = hmacSecretBytesMin(method);
    byte[] secret = privKey.length >= bytesMin ? privKey : Arrays.copyOf(privKey, bytesMin);
    try {
      return new Keys(new MACSigner(secret), new MACVerifier(secret));
    } catch (JOSEException e) {
      throw new IllegalStateException("an HMAC secret of " + secret.length + " bytes was refused", e);
    }
  }

  /** The shortest secret nimbus takes for an HS method: its hash's length. */
  static int hmacSecretBytesMin(JWSAlgorithm method) {
    if (JWSAlgorithm.HS256.equals(method)) {
      return 32;
    }
    if (JWSAlgorithm.HS384.equals(method)) {
      return 48;
    }
    if (JWSAlgorithm.HS512.equals(method)) {
      return 64;
    }
    throw new IllegalArgumentException("not an HMAC method: " + method);
  }

  private Keys rsaKeys() {
    RSAPrivateKey priv = null;
    RSAPublicKey pub = null;
    if (privKey != null) {
      PrivateKey k = pemPrivateKey(privKeyFile, privKey);
      if (!(k instanceof RSAPrivateKey rsa)) {
        throw notAKey(PRIV_KEY, privKeyFile, "RSA private key", describe(k));
      }
      priv = rsa;
    }
    if (pubKey != null) {
      PublicKey k = pemPublicKey(pubKeyFile, pubKey);
      if (!(k instanceof RSAPublicKey rsa)) {
        throw notAKey(PUB_KEY, pubKeyFile, "RSA public key", describe(k));
      }
      pub = rsa;
    }
    if (priv == null) {
      if (pub == null) {
        throw new ConfigException(MISSING_KEY);
      }
      return new Keys(null, new RSASSAVerifier(pub));
    }
    if (!(priv instanceof RSAPrivateCrtKey crt)) {
      // Every PKCS#1 and PKCS#8 RSA key carries the public exponent; one without it cannot verify.
      throw notAKey(PRIV_KEY, privKeyFile, "RSA private key with its public exponent", "a key without one");
    }
    RSAPublicKey derived;
    try {
      derived = (RSAPublicKey) KeyFactory.getInstance("RSA")
          .generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make an RSA public key", e);
    }
    if (pub != null && !(pub.getModulus().equals(derived.getModulus())
        && pub.getPublicExponent().equals(derived.getPublicExponent()))) {
      throw new ConfigException(KEY_MISMATCH);
    }
    // Go signs with RSA keys of any size; nimbus refuses those under 2048 bits unless told.
    return new Keys(new RSASSASigner(priv, Set.of(AllowWeakRSAKey.getInstance())), new RSASSAVerifier(derived));
  }

  private Keys ecKeys() {
    Curve curve = curveOf(method);
    ECPrivateKey priv = null;
    ECPublicKey pub = null;
    if (privKey != null) {
      PrivateKey k = pemPrivateKey(privKeyFile, privKey);
      if (!(k instanceof ECPrivateKey ec) || !curve.equals(Curve.forECParameterSpec(ec.getParams()))) {
        throw notAKey(PRIV_KEY, privKeyFile, curve.getName() + " EC private key", describe(k));
      }
      priv = ec;
    }
    if (pubKey != null) {
      PublicKey k = pemPublicKey(pubKeyFile, pubKey);
      if (!(k instanceof ECPublicKey ec) || !curve.equals(Curve.forECParameterSpec(ec.getParams()))) {
        throw notAKey(PUB_KEY, pubKeyFile, curve.getName() + " EC public key", describe(k));
      }
      pub = ec;
    }
    try {
      if (priv == null) {
        if (pub == null) {
          throw new ConfigException(MISSING_KEY);
        }
        return new Keys(null, new ECDSAVerifier(pub));
      }
      ECPublicKey derived = ecPublicKeyOf(priv, curve);
      if (pub != null && !pub.getW().equals(derived.getW())) {
        throw new ConfigException(KEY_MISMATCH);
      }
      return new Keys(new ECDSASigner(priv), new ECDSAVerifier(derived));
    } catch (JOSEException e) {
      // The curve was checked above, so nimbus has no reason to refuse the key.
      throw new IllegalStateException("nimbus refused a " + curve.getName() + " key", e);
    }
  }

  /** The curve an ES method signs on (RFC 7518 3.4). */
  private static Curve curveOf(JWSAlgorithm method) {
    if (JWSAlgorithm.ES256.equals(method)) {
      return Curve.P_256;
    }
    if (JWSAlgorithm.ES384.equals(method)) {
      return Curve.P_384;
    }
    if (JWSAlgorithm.ES512.equals(method)) {
      return Curve.P_521;
    }
    throw new IllegalArgumentException("not an EC method: " + method);
  }

  /**
   * The public point d·G of {@code priv}, as Go's {@code x509.ParseECPrivateKey} computes it (an
   * embedded public key in the file is ignored, as Go ignores it).
   */
  private ECPublicKey ecPublicKeyOf(ECPrivateKey priv, Curve curve) {
    BigInteger d = priv.getS();
    BigInteger order = priv.getParams().getOrder();
    if (d.signum() <= 0 || d.compareTo(order) >= 0) {
      throw notAKey(PRIV_KEY, privKeyFile, curve.getName() + " EC private key", "a scalar outside 1..n-1");
    }
    X9ECParameters x9 = ECNamedCurveTable.getByName(curve.getStdName());
    org.bouncycastle.math.ec.ECPoint q = new FixedPointCombMultiplier().multiply(x9.getG(), d).normalize();
    ECPoint w = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
    try {
      return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, priv.getParams()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make an EC public key on " + curve.getName(), e);
    }
  }

  private static PrivateKey pemPrivateKey(String file, byte[] pem) {
    Object o = firstPemObject(PRIV_KEY, file, pem);
    try {
      if (o instanceof PEMKeyPair pair) {
        return new JcaPEMKeyConverter().getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return new JcaPEMKeyConverter().getPrivateKey(info);
      }
    } catch (IOException | RuntimeException e) {
      throw notAKey(PRIV_KEY, file, "private key", "a key that does not decode: " + e.getClass().getSimpleName());
    }
    throw notAKey(PRIV_KEY, file, "private key", found(o));
  }

  private static PublicKey pemPublicKey(String file, byte[] pem) {
    Object o = firstPemObject(PUB_KEY, file, pem);
    try {
      if (o instanceof SubjectPublicKeyInfo info) {
        return new JcaPEMKeyConverter().getPublicKey(info);
      }
      if (o instanceof X509CertificateHolder cert) {
        return new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo());
      }
    } catch (IOException | RuntimeException e) {
      throw notAKey(PUB_KEY, file, "public key", "a key that does not decode: " + e.getClass().getSimpleName());
    }
    throw notAKey(PUB_KEY, file, "public key", found(o));
  }

  /**
   * The first PEM block of {@code pem}, decoded; an {@code EC PARAMETERS} block (OpenSSL writes one
   * before the key unless told not to) is passed over. Null without any block.
   */
  private static Object firstPemObject(String option, String file, byte[] pem) {
    try (PEMParser parser = new PEMParser(
        new InputStreamReader(new ByteArrayInputStream(pem), StandardCharsets.US_ASCII))) {
      Object o = parser.readObject();
      if (o instanceof ASN1ObjectIdentifier || o instanceof X9ECParameters) {
        o = parser.readObject();
      }
      return o;
    } catch (IOException | RuntimeException e) {
      throw notAKey(option, file, "key", "PEM that does not parse: " + e.getClass().getSimpleName());
    }
  }

  private static String found(Object o) {
    return o == null ? "no PEM block" : "a PEM block read as " + o.getClass().getSimpleName();
  }

  private static String describe(java.security.Key k) {
    if (k instanceof ECPrivateKey ec) {
      return curveName(ec.getParams());
    }
    if (k instanceof ECPublicKey ec) {
      return curveName(ec.getParams());
    }
    return "a key of type " + k.getAlgorithm();
  }

  private static String curveName(java.security.spec.ECParameterSpec params) {
    Curve c = Curve.forECParameterSpec(params);
    return "an EC key on " + (c == null ? "an unknown curve" : c.getName());
  }

  /** Logs why a key file was refused (its name and what was found, never its content). */
  private static ConfigException notAKey(String option, String file, String expected, String found) {
    LOG.warn("auth: problem loading JWT keys: {} file {} holds no PEM encoded {} ({})", option, file, expected, found);
    return new ConfigException(INVALID_AUTH_OPTS);
  }

  private static byte[] readKeyFile(String option, String file) {
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      byte[] bytes = in.readNBytes(KEY_FILE_BYTES_MAX + 1);
      if (bytes.length > KEY_FILE_BYTES_MAX) {
        LOG.warn("auth: problem loading JWT options: {} file {} is over {} bytes", option, file, KEY_FILE_BYTES_MAX);
        throw new ConfigException(INVALID_AUTH_OPTS);
      }
      return bytes;
    } catch (IOException | InvalidPathException e) {
      LOG.warn("auth: problem loading JWT options: cannot read {} file {}: {}", option, file, e.toString());
      throw new ConfigException(INVALID_AUTH_OPTS);
    }
  }

  private static byte[] emptyToNull(byte[] bytes) {
    return bytes == null || bytes.length == 0 ? null : bytes;
  }

  private static String valueOf(Map<String, String> opts, String key) {
    String v = opts.get(key);
    return v == null ? "" : v;
  }

  private static String quote(String s) {
    return '"' + s + '"';
  }

  private static Map<String, JWSAlgorithm> methods() {
    Map<String, JWSAlgorithm> m = new LinkedHashMap<>();
    for (JWSAlgorithm a : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512, JWSAlgorithm.RS256,
        JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
        JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512)) {
      m.put(a.getName(), a);
    }
    return Collections.unmodifiableMap(m);
  }
}
