package io.kvorum.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.ConfigException;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JWT provider against etcd 3.4's behaviour: tokens round-trip and match Go's bytes, forgeries
 * and expired tokens give null, and bad options fail with etcd's messages. Keys are generated here
 * and written as PEM files; time is a {@link FakeClock}.
 */
class JwtTokensTest {
  private static final String INVALID = "auth: invalid auth options";
  private static final String MISSING = "auth: missing key data";
  private static final String MISMATCH = "auth: public and private keys don't match";
  /** FakeClock's default wall time, a whole second: 2026-01-01T00:00:00Z. */
  private static final long T0_SECONDS = 1_767_225_600L;

  private static KeyPair rsaA;
  private static KeyPair rsaB;
  private static final Map<String, KeyPair> EC_A = new HashMap<>();
  private static final Map<String, KeyPair> EC_B = new HashMap<>();

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private int files;

  @BeforeAll
  static void generateKeys() throws GeneralSecurityException {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    rsaA = rsa.generateKeyPair();
    rsaB = rsa.generateKeyPair();
    for (String curve : List.of("secp256r1", "secp384r1", "secp521r1")) {
      KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
      ec.initialize(new ECGenParameterSpec(curve));
      EC_A.put(curve, ec.generateKeyPair());
      EC_B.put(curve, ec.generateKeyPair());
    }
  }

  // Round trips.

  @ParameterizedTest
  @ValueSource(strings = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
      "HS384", "HS512"})
  void issue_thenInfo_carriesUserAndRevision(String method) throws IOException {
    JwtTokens tokens = provider(fullFlag(method));

    String token = tokens.issue("alice", 42, "");

    assertThat(token.split("\\.", -1)).hasSize(3);
    assertThat(json(token, 0)).isEqualTo("{\"alg\":\"" + method + "\",\"typ\":\"JWT\"}");
    assertThat(tokens.info(token, 99)).isEqualTo(new AuthInfo("alice", 42));
  }

  @Test
  void issue_hs256WithAShortSecret_isByteForByteWhatEtcdSigns() throws Exception {
    // 12 bytes: nimbus alone refuses a secret under 32 bytes for HS256; Go's jwt library takes it.
    Path secret = write("secret", "secret-bytes".getBytes(StandardCharsets.US_ASCII));
    JwtTokens tokens = provider("jwt,sign-method=HS256,priv-key=" + secret);

    String token = tokens.issue("alice", 7, "");

    // Printed by Go's golang-jwt (jwt.NewWithClaims(jwt.SigningMethodHS256, MapClaims{username: "alice",
    // revision: uint64(7), exp: time.Unix(1767225600, 0).Add(5 * time.Minute).Unix()}).SignedString(secret)),
    // as etcd's assign signs it.
    assertThat(token).isEqualTo("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        + ".eyJleHAiOjE3NjcyMjU5MDAsInJldmlzaW9uIjo3LCJ1c2VybmFtZSI6ImFsaWNlIn0"
        + ".mULYOYY9RB3ooSKWQluDqan8ZP_F-FQcmLH4fmSJT9I");
    assertThat(tokens.info(token, 1)).isEqualTo(new AuthInfo("alice", 7));
  }

  @Test
  void issue_hs512WithAShortSecret_macIsTheUnpaddedSecretsMac() throws Exception {
    Path secret = write("secret", "k".getBytes(StandardCharsets.US_ASCII));
    JwtTokens tokens = provider("jwt,sign-method=HS512,priv-key=" + secret);

    String token = tokens.issue("bob", 3, "");

    String signingInput = token.substring(0, token.lastIndexOf('.'));
    assertThat(token.substring(token.lastIndexOf('.') + 1))
        .isEqualTo(hmac("HmacSHA512", "k".getBytes(StandardCharsets.US_ASCII), signingInput));
  }

  @Test
  void issue_es256_signatureIsJoseRAndS() throws IOException {
    JwtTokens tokens = provider(fullFlag("ES256"));

    String token = tokens.issue("alice", 1, "");

    // Go's jwt library and RFC 7518 both write R and S as 32 bytes each, not DER.
    assertThat(Base64.getUrlDecoder().decode(token.split("\\.")[2])).hasSize(64);
  }

  @Test
  void issue_carriesTheRevisionAsANumberAndTheUserAsAString() throws IOException {
    JwtTokens tokens = provider(fullFlag("RS256"));

    String token = tokens.issue("a\"b<c>", 1L << 40, "");

    assertThat(tokens.info(token, 1)).isEqualTo(new AuthInfo("a\"b<c>", 1L << 40));
    assertThat(json(token, 1)).contains("\"revision\":1099511627776");
  }

  @Test
  void privateKeyOnly_derivesThePublicHalf() throws IOException {
    for (String flag : List.of(
        "jwt,sign-method=RS256,priv-key=" + pem(rsaA.getPrivate()),
        "jwt,sign-method=PS384,priv-key=" + pkcs8(rsaA.getPrivate()),
        "jwt,sign-method=ES256,priv-key=" + pem(ec("ES256", EC_A).getPrivate()),
        "jwt,sign-method=ES256,priv-key=" + pkcs8(ec("ES256", EC_A).getPrivate()))) {
      JwtTokens tokens = provider(flag);
      assertThat(tokens.info(tokens.issue("carol", 5, ""), 5)).as(flag).isEqualTo(new AuthInfo("carol", 5));
    }
  }

  @Test
  void publicKeyForms_pkcs1AndCertificate_areRead() throws Exception {
    JwtTokens full = provider(fullFlag("RS256"));
    String token = full.issue("dave", 2, "");
    RSAPublicKey pub = (RSAPublicKey) rsaA.getPublic();
    Path pkcs1 = pemObjects(new PemObject("RSA PUBLIC KEY",
        new org.bouncycastle.asn1.pkcs.RSAPublicKey(pub.getModulus(), pub.getPublicExponent()).getEncoded()));
    Path cert = pemObjects(certificate(rsaA));

    assertThat(provider("jwt,sign-method=RS256,pub-key=" + pkcs1).info(token, 1)).isEqualTo(new AuthInfo("dave", 2));
    assertThat(provider("jwt,sign-method=RS256,pub-key=" + cert).info(token, 1)).isEqualTo(new AuthInfo("dave", 2));
  }

  @Test
  void ecKey_afterAnEcParametersBlock_isRead() throws IOException {
    // What `openssl ecparam -genkey -name prime256v1` writes: the curve, then the key with its public point.
    KeyPair kp = ec("ES256", EC_A);
    byte[] p256 = new ASN1ObjectIdentifier("1.2.840.10045.3.1.7").getEncoded();
    Path withParams = pemObjects(new PemObject("EC PARAMETERS", p256),
        new PemObject("EC PRIVATE KEY", sec1((ECPrivateKey) kp.getPrivate(), kp.getPublic()).getEncoded()));

    JwtTokens tokens = provider("jwt,sign-method=ES256,priv-key=" + withParams);

    assertThat(tokens.info(tokens.issue("erin", 1, ""), 1)).isEqualTo(new AuthInfo("erin", 1));
  }

  @Test
  void rsaKeyUnder2048Bits_isTakenAsGoTakesIt_unlessTheMethodCannotUseIt() throws GeneralSecurityException, IOException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(1024);
    KeyPair small = g.generateKeyPair();
    JwtTokens rs = provider("jwt,sign-method=RS256,priv-key=" + pem(small.getPrivate()));

    assertThat(rs.info(rs.issue("gina", 1, ""), 1)).isEqualTo(new AuthInfo("gina", 1));
    // PS512 needs 130 bytes of modulus for its hash and salt: etcd would fail every Authenticate.
    String ps512 = "jwt,sign-method=PS512,priv-key=" + pem(small.getPrivate());
    assertThatThrownBy(() -> provider(ps512)).isInstanceOf(ConfigException.class).hasMessage(INVALID);
  }

  // Verify-only.

  @ParameterizedTest
  @ValueSource(strings = {"RS256", "PS512", "ES256", "ES512"})
  void verifyOnly_verifiesTheFullProvidersTokens_andCannotIssue(String method) throws IOException {
    JwtTokens full = provider(fullFlag(method));
    KeyPair kp = method.startsWith("ES") ? ec(method, EC_A) : rsaA;
    JwtTokens verifyOnly = provider("jwt,sign-method=" + method + ",pub-key=" + pem(kp.getPublic()));

    assertThat(verifyOnly.info(full.issue("frank", 9, ""), 9)).isEqualTo(new AuthInfo("frank", 9));
    assertThatThrownBy(() -> verifyOnly.issue("frank", 9, ""))
        .isInstanceOfSatisfying(EtcdException.class, e -> assertThat(e.error()).isEqualTo(EtcdError.AUTH_VERIFY_ONLY))
        .hasMessage("auth: token signing attempted with verify-only key");
  }

  // Expiry and the other time claims.

  @Test
  void info_isValidAtExp_andNotOneSecondLater() throws IOException {
    JwtTokens tokens = provider(fullFlag("RS256") + ",ttl=10s");
    String token = tokens.issue("alice", 1, "");

    clock.advance(Duration.ofSeconds(10));
    assertThat(tokens.info(token, 1)).isEqualTo(new AuthInfo("alice", 1));
    clock.advance(Duration.ofMillis(999));
    assertThat(tokens.info(token, 1)).isEqualTo(new AuthInfo("alice", 1));
    clock.advance(Duration.ofMillis(1));
    assertThat(tokens.info(token, 1)).isNull();
  }

  @Test
  void info_timeClaims_followGoJwtV3() throws Exception {
    byte[] secret = "secret-bytes".getBytes(StandardCharsets.US_ASCII);
    JwtTokens tokens = provider("jwt,sign-method=HS256,priv-key=" + write("s", secret));
    long now = T0_SECONDS;

    // No exp, or exp 0, never expires in Go's library; etcd itself always sets one.
    assertThat(tokens.info(hs256(secret, "{\"revision\":1,\"username\":\"u\"}"), 1)).isNotNull();
    assertThat(tokens.info(hs256(secret, "{\"exp\":0,\"revision\":1,\"username\":\"u\"}"), 1)).isNotNull();
    assertThat(tokens.info(hs256(secret, "{\"exp\":" + (now - 1) + ",\"revision\":1,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"exp\":\"" + (now + 60) + "\",\"revision\":1,\"username\":\"u\"}"), 1))
        .isNull();
    // A fractional exp is truncated to its second, as Go's int64(float64).
    assertThat(tokens.info(hs256(secret, "{\"exp\":" + now + ".9,\"revision\":1,\"username\":\"u\"}"), 1)).isNotNull();
    assertThat(tokens.info(hs256(secret, "{\"exp\":" + (now - 1) + ".9,\"revision\":1,\"username\":\"u\"}"), 1))
        .isNull();
    // Issued or not-before in the future: refused; now or in the past: valid.
    assertThat(tokens.info(hs256(secret, "{\"iat\":" + (now + 1) + ",\"revision\":1,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"iat\":" + now + ",\"revision\":1,\"username\":\"u\"}"), 1)).isNotNull();
    assertThat(tokens.info(hs256(secret, "{\"nbf\":" + (now + 1) + ",\"revision\":1,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"nbf\":" + now + ",\"revision\":1,\"username\":\"u\"}"), 1)).isNotNull();
    assertThat(tokens.info(hs256(secret, "{\"nbf\":true,\"revision\":1,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"iat\":1e300,\"revision\":1,\"username\":\"u\"}"), 1)).isNull();

    clock.advance(Duration.ofSeconds(1));
    assertThat(tokens.info(hs256(secret, "{\"nbf\":" + (now + 1) + ",\"revision\":1,\"username\":\"u\"}"), 1))
        .isNotNull();
  }

  @Test
  void info_mistypedOrMissingClaims_isNull() throws Exception {
    byte[] secret = "secret-bytes".getBytes(StandardCharsets.US_ASCII);
    JwtTokens tokens = provider("jwt,sign-method=HS256,priv-key=" + write("s", secret));

    assertThat(tokens.info(hs256(secret, "{\"revision\":1}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"revision\":1,\"username\":7}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"revision\":1,\"username\":\"\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"revision\":\"1\",\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"revision\":0,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "{\"revision\":-3,\"username\":\"u\"}"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "[1,2]"), 1)).isNull();
    assertThat(tokens.info(hs256(secret, "not json"), 1)).isNull();
    // Go decodes every JSON number as a float64 and converts it: 4.0 and 4.7 are revision 4.
    assertThat(tokens.info(hs256(secret, "{\"revision\":4.7,\"username\":\"u\"}"), 1)).isEqualTo(new AuthInfo("u", 4));
  }

  // Forgeries.

  @Test
  void info_tokenOfAnotherKey_isNull() throws IOException {
    JwtTokens a = provider(fullFlag("RS256"));
    JwtTokens b = provider("jwt,sign-method=RS256,priv-key=" + pem(rsaB.getPrivate()));
    JwtTokens ecA = provider(fullFlag("ES256"));
    JwtTokens ecB = provider("jwt,sign-method=ES256,priv-key=" + pem(ec("ES256", EC_B).getPrivate()));
    JwtTokens hsA = provider("jwt,sign-method=HS256,priv-key=" + write("a", "one".getBytes(StandardCharsets.US_ASCII)));
    JwtTokens hsB = provider("jwt,sign-method=HS256,priv-key=" + write("b", "two".getBytes(StandardCharsets.US_ASCII)));

    assertThat(a.info(b.issue("alice", 1, ""), 1)).isNull();
    assertThat(ecA.info(ecB.issue("alice", 1, ""), 1)).isNull();
    assertThat(hsA.info(hsB.issue("alice", 1, ""), 1)).isNull();
  }

  @Test
  void info_tokenOfAnotherMethodWithTheSameKey_isNull() throws IOException {
    JwtTokens rs = provider(fullFlag("RS256"));
    JwtTokens ps = provider(fullFlag("PS256"));

    assertThat(rs.info(ps.issue("alice", 1, ""), 1)).isNull();
    assertThat(ps.info(rs.issue("alice", 1, ""), 1)).isNull();
  }

  @Test
  void info_hs256TokenKeyedWithThePublicKeyFile_isNull() throws Exception {
    // The classic key confusion: an HS256 token whose HMAC key is the RS256 provider's public key.
    Path pub = pem(rsaA.getPublic());
    JwtTokens tokens = provider("jwt,sign-method=RS256,pub-key=" + pub);
    String payload = "{\"exp\":" + (T0_SECONDS + 300) + ",\"revision\":1,\"username\":\"root\"}";

    String forged = hs256(Files.readAllBytes(pub), payload);

    assertThat(tokens.info(forged, 1)).isNull();
  }

  @Test
  void info_tamperedPayload_isNull() throws IOException {
    JwtTokens tokens = provider(fullFlag("ES256"));
    String[] parts = tokens.issue("alice", 1, "").split("\\.");

    String claims = json(parts[0] + "." + parts[1] + "." + parts[2], 1).replace("\"alice\"", "\"root\"");
    String tampered = parts[0] + "." + b64(claims) + "." + parts[2];

    assertThat(claims).contains("\"root\"");
    assertThat(tokens.info(tampered, 1)).isNull();
  }

  @Test
  void info_noneAlgorithm_isNull() throws IOException {
    String payload = b64("{\"exp\":" + (T0_SECONDS + 300) + ",\"revision\":1,\"username\":\"root\"}");
    for (String method : List.of("RS256", "HS256")) {
      JwtTokens tokens = provider(fullFlag(method));
      assertThat(tokens.info(b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + payload + ".", 1)).isNull();
      assertThat(tokens.info(b64("{\"alg\":\"none\"}") + "." + payload + ".", 1)).isNull();
    }
  }

  @Test
  void info_malformed_isNull() throws IOException {
    JwtTokens tokens = provider(fullFlag("RS256"));
    String token = tokens.issue("alice", 1, "");

    for (String bad : new String[] {"", "a.b", "x.y.z", "a.b.c.d", "...", token + ".x", "Bearer " + token,
        token.substring(0, token.length() - 2), token.replace('.', '!')}) {
      assertThat(tokens.info(bad, 1)).as(bad).isNull();
    }
    assertThat(tokens.info(null, 1)).isNull();
  }

  // The rest of the TokenProvider contract.

  @Test
  void nothingIsRegisteredOrAwaited() throws IOException {
    JwtTokens tokens = provider(fullFlag("HS256"));

    assertThat(tokens.newPrefix()).isEmpty();
    assertThat(tokens.register("alice", "", 12)).isEmpty();
    String token = tokens.issue("alice", 3, "");
    assertThat(tokens.appliedIndexNeeded(token)).isZero();
    tokens.disable();
    tokens.invalidateUser("alice");
    tokens.enable();
    assertThat(tokens.info(token, 3)).isEqualTo(new AuthInfo("alice", 3));
  }

  @Test
  void issueAndInfo_fromManyThreads() throws Exception {
    JwtTokens tokens = provider(fullFlag("ES256"));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        String user = "user" + t;
        results.add(pool.submit(() -> {
          for (long rev = 1; rev <= 50; rev++) {
            if (!new AuthInfo(user, rev).equals(tokens.info(tokens.issue(user, rev, ""), rev))) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get(60, TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // The time to live, seen through exp.

  @ParameterizedTest
  @CsvSource({"1s,1", "300ms,0", "1h30m,5400", "2m3.5s,123", "1.5h,5400", "'',300", "0,0", "-1m,-60", "+90s,90"})
  void ttl_setsExp(String ttl, long seconds) throws IOException {
    JwtTokens tokens = provider(fullFlag("HS256") + ",ttl=" + ttl);

    assertThat(json(tokens.issue("alice", 1, ""), 1)).startsWith("{\"exp\":" + (T0_SECONDS + seconds) + ",");
  }

  @Test
  void ttl_absent_isFiveMinutes() throws IOException {
    JwtTokens tokens = provider(fullFlag("HS256"));

    assertThat(json(tokens.issue("alice", 1, ""), 1)).startsWith("{\"exp\":" + (T0_SECONDS + 300) + ",");
  }

  @Test
  void exp_isTheSumFlooredToASecond_asGoTimeUnix() {
    // 0.6 s past a second plus 500 ms is 1.1 s past it: Go's Unix() gives that later second.
    assertThat(JwtTokens.expiry(T0_SECONDS * 1000 + 600, Duration.ofMillis(500))).isEqualTo(T0_SECONDS + 1);
    assertThat(JwtTokens.expiry(T0_SECONDS * 1000 + 400, Duration.ofMillis(500))).isEqualTo(T0_SECONDS);
    assertThat(JwtTokens.expiry(T0_SECONDS * 1000 + 400, Duration.ofMillis(-500))).isEqualTo(T0_SECONDS - 1);
  }

  @Test
  void exp_onAClockBetweenSeconds() throws IOException {
    FakeClock late = new FakeClock(T0_SECONDS * 1000 + 600);
    Map<String, String> opts = JwtOptions.split(fullFlag("HS256") + ",ttl=500ms").options();

    JwtTokens tokens = JwtTokens.fromOptions(opts, late);

    assertThat(json(tokens.issue("alice", 1, ""), 1)).startsWith("{\"exp\":" + (T0_SECONDS + 1) + ",");
  }

  @ParameterizedTest
  @ValueSource(strings = {"5", "5 minutes", "1d", "-", ".s", "1..5s", "1s ", "9223372036854775808ns", "3000000h"})
  void ttl_thatIsNotAGoDuration_isRefused(String ttl) throws IOException {
    String flag = fullFlag("HS256") + ",ttl=" + ttl;

    assertThatThrownBy(() -> provider(flag)).isInstanceOf(ConfigException.class).hasMessage(INVALID);
  }

  // Option errors.

  @ParameterizedTest
  @ValueSource(strings = {"EdDSA", "none", "RS1024", "rs256", "ES256K", ""})
  void signMethod_unknownOrUnusable_isRefused(String method) throws IOException {
    String flag = "jwt,sign-method=" + method + ",priv-key=" + pem(rsaA.getPrivate());

    assertThatThrownBy(() -> provider(flag)).isInstanceOf(ConfigException.class).hasMessage(INVALID);
  }

  @Test
  void signMethod_absent_isRefused() throws IOException {
    String flag = "jwt,priv-key=" + pem(rsaA.getPrivate());

    assertThatThrownBy(() -> provider(flag)).isInstanceOf(ConfigException.class).hasMessage(INVALID);
  }

  @Test
  void split_isEtcdsDecomposeOpts() {
    JwtOptions.Split flag = JwtOptions.split("jwt,sign-method=RS256,priv-key=/k,ttl=1s,=odd,empty=");

    assertThat(flag.type()).isEqualTo("jwt");
    assertThat(flag.options()).containsExactly(Map.entry("sign-method", "RS256"), Map.entry("priv-key", "/k"),
        Map.entry("ttl", "1s"), Map.entry("", "odd"), Map.entry("empty", ""));
    assertThat(JwtOptions.split("simple").type()).isEqualTo("simple");
    assertThat(JwtOptions.split("simple").options()).isEmpty();
    assertThat(JwtOptions.split("").type()).isEmpty();
  }

  @Test
  void split_returnsACopy() {
    JwtOptions.Split flag = JwtOptions.split("jwt,ttl=1s");

    flag.options().put("ttl", "2s");

    assertThat(flag.options()).containsExactly(Map.entry("ttl", "1s"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"jwt,sign-method=RS256,sign-method=HS256", "jwt,ttl", "jwt,", "jwt,,ttl=1s",
      "jwt,ttl=1s=2s", "jwt,ttl=1s,ttl=1s"})
  void split_badOption_isRefused(String flag) {
    assertThatThrownBy(() -> JwtOptions.split(flag)).isInstanceOf(ConfigException.class).hasMessage(INVALID);
  }

  @Test
  void unknownOptions_areIgnored() throws IOException {
    JwtTokens tokens = provider(fullFlag("RS256") + ",colour=blue,TTL=1s");

    assertThat(json(tokens.issue("alice", 1, ""), 1)).startsWith("{\"exp\":" + (T0_SECONDS + 300) + ",");
  }

  @Test
  void missingKeyData_isRefused() throws IOException {
    Path empty = write("empty", new byte[0]);
    for (String flag : List.of("jwt,sign-method=RS256", "jwt,sign-method=PS256,priv-key=", "jwt,sign-method=ES384",
        "jwt,sign-method=HS256",
        "jwt,sign-method=HS256,pub-key=" + write("k", "abc".getBytes(StandardCharsets.US_ASCII)),
        "jwt,sign-method=HS256,priv-key=" + empty, "jwt,sign-method=RS256,priv-key=" + empty)) {
      assertThatThrownBy(() -> provider(flag)).as(flag).isInstanceOf(ConfigException.class).hasMessage(MISSING);
    }
  }

  @Test
  void keysThatDoNotMatch_areRefused() throws IOException {
    String rsa = "jwt,sign-method=RS256,priv-key=" + pem(rsaA.getPrivate()) + ",pub-key=" + pem(rsaB.getPublic());
    String ec = "jwt,sign-method=ES256,priv-key=" + pem(ec("ES256", EC_A).getPrivate()) + ",pub-key="
        + pem(ec("ES256", EC_B).getPublic());

    assertThatThrownBy(() -> provider(rsa)).isInstanceOf(ConfigException.class).hasMessage(MISMATCH);
    assertThatThrownBy(() -> provider(ec)).isInstanceOf(ConfigException.class).hasMessage(MISMATCH);
  }

  @Test
  void keysThatDoNotFitTheMethod_areRefused() throws IOException {
    for (String flag : List.of(
        "jwt,sign-method=RS256,priv-key=" + pem(ec("ES256", EC_A).getPrivate()),
        "jwt,sign-method=RS256,pub-key=" + pem(ec("ES256", EC_A).getPublic()),
        "jwt,sign-method=ES256,priv-key=" + pem(rsaA.getPrivate()),
        "jwt,sign-method=ES256,priv-key=" + pem(ec("ES384", EC_A).getPrivate()),
        "jwt,sign-method=ES512,pub-key=" + pem(ec("ES256", EC_A).getPublic()),
        "jwt,sign-method=RS256,pub-key=" + pem(rsaA.getPrivate()),
        "jwt,sign-method=RS256,priv-key=" + pem(rsaA.getPublic()),
        "jwt,sign-method=RS256,priv-key=" + write("junk", "not a key".getBytes(StandardCharsets.US_ASCII)),
        "jwt,sign-method=RS256,priv-key=" + write("bad", ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n"
            + "-----END RSA PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII)),
        "jwt,sign-method=RS256,priv-key=" + dir.resolve("absent"),
        "jwt,sign-method=HS256,priv-key=" + dir)) {
      assertThatThrownBy(() -> provider(flag)).as(flag).isInstanceOf(ConfigException.class).hasMessage(INVALID);
    }
  }

  @Test
  void keyFile_overTheLimit_isRefused() throws IOException {
    Path big = write("big", new byte[JwtOptions.KEY_FILE_BYTES_MAX + 1]);

    assertThatThrownBy(() -> provider("jwt,sign-method=HS256,priv-key=" + big)).isInstanceOf(ConfigException.class)
        .hasMessage(INVALID);
  }

  // Helpers.

  private JwtTokens provider(String flag) {
    JwtOptions.Split split = JwtOptions.split(flag);
    assertThat(split.type()).isEqualTo("jwt");
    return JwtTokens.fromOptions(split.options(), clock);
  }

  /** A flag with both keys of the A pair for {@code method} (a secret for HS). */
  private String fullFlag(String method) throws IOException {
    if (method.startsWith("HS")) {
      Path secret = write("secret", "secret-bytes".getBytes(StandardCharsets.US_ASCII));
      return "jwt,sign-method=" + method + ",priv-key=" + secret;
    }
    KeyPair kp = method.startsWith("ES") ? ec(method, EC_A) : rsaA;
    return "jwt,sign-method=" + method + ",priv-key=" + pem(kp.getPrivate()) + ",pub-key=" + pem(kp.getPublic());
  }

  private static KeyPair ec(String method, Map<String, KeyPair> pairs) {
    switch (method) {
      case "ES256":
        return pairs.get("secp256r1");
      case "ES384":
        return pairs.get("secp384r1");
      case "ES512":
        return pairs.get("secp521r1");
      default:
        throw new IllegalArgumentException(method);
    }
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name + "-" + files++);
    Files.write(p, bytes);
    return p;
  }

  /**
   * PEM as OpenSSL writes it: PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}) for
   * private keys, SPKI ({@code PUBLIC KEY}) for public ones. An EC private key is written as
   * {@code openssl ec -no_public} does, curve included: JcaPEMWriter would copy the JDK's inner
   * SEC1 structure, which names no curve, and neither Go nor anyone else can read that.
   */
  private Path pem(Object key) throws IOException {
    if (key instanceof ECPrivateKey ec) {
      return pemObjects(new PemObject("EC PRIVATE KEY", sec1(ec, null).getEncoded()));
    }
    return pemObjects(key);
  }

  /** The SEC1 structure of {@code priv} with its named curve and, when given, its public point. */
  private static org.bouncycastle.asn1.sec.ECPrivateKey sec1(ECPrivateKey priv, PublicKey pub) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(priv.getEncoded());
    ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
    int orderBits = priv.getParams().getOrder().bitLength();
    if (pub == null) {
      return new org.bouncycastle.asn1.sec.ECPrivateKey(orderBits, priv.getS(), curve);
    }
    byte[] encodedPoint = SubjectPublicKeyInfo.getInstance(pub.getEncoded()).getPublicKeyData().getOctets();
    DERBitString point = new DERBitString(encodedPoint);
    return new org.bouncycastle.asn1.sec.ECPrivateKey(orderBits, priv.getS(), point, curve);
  }

  private Path pemObjects(Object... objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        w.writeObject(o);
      }
    }
    return write("key.pem", out.toString().getBytes(StandardCharsets.US_ASCII));
  }

  private Path pkcs8(PrivateKey key) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(new JcaPKCS8Generator(key, null));
    }
    assertThat(out.toString()).startsWith("-----BEGIN PRIVATE KEY-----");
    return write("pkcs8.pem", out.toString().getBytes(StandardCharsets.US_ASCII));
  }

  /** A self-signed certificate for {@code kp}, dated by the test's clock. */
  private java.security.cert.X509Certificate certificate(KeyPair kp) throws Exception {
    java.util.Date from = new java.util.Date(clock.wallMillis());
    java.util.Date to = new java.util.Date(clock.wallMillis() + 86_400_000L);
    X500Name name = new X500Name("CN=jwt");
    var holder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, from, to, name, kp.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate()));
    return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(holder);
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The JSON of the token's header (0) or claims (1). */
  private static String json(String token, int part) {
    return new String(Base64.getUrlDecoder().decode(token.split("\\.")[part]), StandardCharsets.UTF_8);
  }

  private static String hmac(String algorithm, byte[] secret, String signingInput) throws GeneralSecurityException {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(secret, algorithm));
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
  }

  /** An HS256 token with these claims, signed independently of the code under test. */
  private static String hs256(byte[] secret, String claims) throws GeneralSecurityException {
    String signingInput = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64(claims);
    return signingInput + "." + hmac("HmacSHA256", secret, signingInput);
  }
}
