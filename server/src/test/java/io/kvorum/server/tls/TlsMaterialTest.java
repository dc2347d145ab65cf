package io.kvorum.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.config.TlsConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {
  private static final List<URI> URLS = List.of(URI.create("https://127.0.0.1:2380"));

  @TempDir Path dir;

  private static TlsConfig files(String cert, String key, boolean ca, boolean auth, String crl, String cn, String host) {
    return new TlsConfig(Fixtures.path(cert), Fixtures.path(key), ca ? Fixtures.path("ca.crt") : null, auth, false,
        crl == null ? null : Fixtures.path(crl), cn, host);
  }

  private TlsMaterial load(TlsConfig cfg) throws TlsException {
    return TlsMaterial.load("peer", cfg, List.of(), dir, URLS);
  }

  private static X509Certificate[] chain(String cert) throws TlsException {
    return Pem.certificates(Fixtures.path(cert)).toArray(new X509Certificate[0]);
  }

  @Test
  void load_certFilesWithCa_requiresClientCertsAndChecksThemAgainstTheCa() throws Exception {
    TlsMaterial m = load(files("server.crt", "server.key.insecure", true, false, null, null, null));

    assertThat(m.selfSigned()).isFalse();
    assertThat(m.clientCertRequired()).as("a trusted CA file alone requires client certificates, as in etcd").isTrue();
    assertThat(m.keyManagerFactory().getKeyManagers()).isNotEmpty();
    X509ExtendedTrustManager accepting = m.acceptingTrustManager();
    assertThatCode(() -> accepting.checkClientTrusted(chain("server2.crt"), "RSA")).doesNotThrowAnyException();
    assertThatThrownBy(() -> accepting.checkClientTrusted(new X509Certificate[] {selfSigned()}, "EC"))
        .isInstanceOf(CertificateException.class);
    assertThatCode(() -> m.dialingTrustManager().checkServerTrusted(chain("server.crt"), "RSA"))
        .doesNotThrowAnyException();
  }

  @Test
  void load_ecdsaKey_matchesItsCertificate() throws Exception {
    TlsMaterial m = load(files("server-ecdsa.crt", "server-ecdsa.key.insecure", false, false, null, null, null));
    assertThat(m.clientCertRequired()).isFalse();
    assertThat(m.certificate().getPublicKey().getAlgorithm()).isEqualTo("EC");
  }

  @Test
  void load_keyOfAnotherCertificate_refused() {
    assertThatThrownBy(() -> load(files("server.crt", "server2.key.insecure", false, false, null, null, null)))
        .isInstanceOf(TlsException.class).hasMessageContaining("private key").hasMessageContaining("does not match");
    assertThatThrownBy(() -> load(files("server.crt", "server-ecdsa.key.insecure", false, false, null, null, null)))
        .isInstanceOf(TlsException.class).hasMessageContaining("does not match");
  }

  @Test
  void acceptingTrustManager_crl_rejectsRevokedSerialOnly() throws Exception {
    TlsMaterial m = load(files("server.crt", "server.key.insecure", true, true, "revoke.crl", null, null));
    X509ExtendedTrustManager tm = m.acceptingTrustManager();

    assertThatThrownBy(() -> tm.checkClientTrusted(chain("server-revoked.crt"), "RSA"))
        .isInstanceOf(CertificateException.class)
        .hasMessageContaining("4A3CF9F9DCC21A01B4A0EFAEF7546AAEE8FBD194").hasMessageContaining("revoked");
    assertThatCode(() -> tm.checkClientTrusted(chain("server.crt"), "RSA")).doesNotThrowAnyException();
  }

  @Test
  void acceptingTrustManager_crlReplaced_rereadsIt() throws Exception {
    Path crl = dir.resolve("live.crl");
    Files.write(crl, Files.readAllBytes(Fixtures.path("revoke.crl")));
    TlsConfig cfg = new TlsConfig(Fixtures.path("server.crt"), Fixtures.path("server.key.insecure"),
        Fixtures.path("ca.crt"), true, false, crl, null, null);
    X509ExtendedTrustManager tm = load(cfg).acceptingTrustManager();
    assertThatThrownBy(() -> tm.checkClientTrusted(chain("server-revoked.crt"), "RSA"))
        .isInstanceOf(CertificateException.class);

    Files.delete(crl);
    assertThatThrownBy(() -> tm.checkClientTrusted(chain("server.crt"), "RSA"))
        .as("an unreadable CRL rejects everyone").isInstanceOf(CertificateException.class);
  }

  @Test
  void acceptingTrustManager_allowedCn_rejectsOtherNamesWithEtcdMessage() throws Exception {
    X509ExtendedTrustManager tm =
        load(files("server.crt", "server.key.insecure", true, true, null, "example.com", null)).acceptingTrustManager();

    assertThatCode(() -> tm.checkClientTrusted(chain("server.crt"), "RSA")).doesNotThrowAnyException();
    assertThatThrownBy(() -> tm.checkClientTrusted(chain("server2.crt"), "RSA"))
        .isInstanceOf(CertificateException.class)
        .hasMessageContaining("client certificate authentication failed")
        .hasMessageContaining("example2.com");
  }

  @Test
  void acceptingTrustManager_allowedHostname_matchesSansNotCn() throws Exception {
    X509ExtendedTrustManager localhost =
        load(files("server.crt", "server.key.insecure", true, true, null, null, "localhost")).acceptingTrustManager();
    X509ExtendedTrustManager example2 =
        load(files("server.crt", "server.key.insecure", true, true, null, null, "example2.com")).acceptingTrustManager();

    assertThatCode(() -> localhost.checkClientTrusted(chain("server2.crt"), "RSA")).doesNotThrowAnyException();
    assertThatThrownBy(() -> example2.checkClientTrusted(chain("server2.crt"), "RSA"))
        .as("CN example2.com is no host name").isInstanceOf(CertificateException.class)
        .hasMessageContaining("client certificate authentication failed");
  }

  @Test
  void load_allowedCnAndHostname_mutuallyExclusive() {
    assertThatThrownBy(() -> load(files("server.crt", "server.key.insecure", true, true, null, "a", "b")))
        .isInstanceOf(TlsException.class).hasMessageContaining("mutually exclusive");
  }

  @Test
  void load_autoTls_selfSignedUnderDataDirAndTrustsAnyServer() throws Exception {
    TlsConfig auto = new TlsConfig(null, null, Fixtures.path("ca.crt"), true, true, null, "example.com", null);
    TlsMaterial m = TlsMaterial.load("peer", auto, List.of(), dir, URLS);

    assertThat(m.selfSigned()).isTrue();
    assertThat(dir.resolve("fixtures/peer/cert.pem")).exists();
    assertThat(dir.resolve("fixtures/peer/key.pem")).exists();
    assertThat(m.clientCertRequired()).as("auto-TLS drops the other flags, as etcd does").isFalse();
    assertThat(CertificateCheck.matchesHost(m.certificate(), "127.0.0.1")).isTrue();
    assertThatCode(() -> m.dialingTrustManager().checkServerTrusted(new X509Certificate[] {selfSigned()}, "EC"))
        .doesNotThrowAnyException();
  }

  @Test
  void load_certFilesAndAutoTls_usesTheFiles() throws Exception {
    TlsConfig both = new TlsConfig(Fixtures.path("server.crt"), Fixtures.path("server.key.insecure"), null, false, true,
        null, null, null);
    TlsMaterial m = load(both);
    assertThat(m.selfSigned()).isFalse();
    assertThat(dir.resolve("fixtures")).doesNotExist();
  }

  @Test
  void load_cipherSuites_tls12OnlyWithJsseNames() throws Exception {
    TlsMaterial m = TlsMaterial.load("client", files("server.crt", "server.key.insecure", false, false, null, null, null),
        List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"), dir, URLS);
    assertThat(m.cipherSuites()).containsExactly("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    assertThat(m.protocols()).containsExactly("TLSv1.2");
  }

  /** A certificate no fixture CA signed. */
  static X509Certificate selfSigned() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return SelfSignedCertificate.generate(g.generateKeyPair(), List.of("localhost", "127.0.0.1"), Instant.now(),
        new SecureRandom());
  }
}
