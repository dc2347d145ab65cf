package io.kvorum.server.tls;

import io.kvorum.server.config.TlsConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS material of one side (clients or peers) of a member, resolved from its flags the way
 * etcd resolves a {@code transport.TLSInfo}, in JDK types for the gRPC edges to build their
 * {@code SslContext}s from.
 *
 * <p><b>Certificate.</b> {@code --cert-file}/{@code --key-file} when given (auto-TLS is then
 * ignored, as etcd ignores it); otherwise, with auto-TLS, a self-signed certificate kept in
 * {@code <data-dir>/fixtures/<side>} ({@link SelfSignedCertificate}). With auto-TLS nothing else of
 * the side's flags applies (etcd replaces the whole TLS info with the self-signed one): no CA, no
 * client certificate requirement, no CRL, no allowed name; the cipher suites still do.
 *
 * <p><b>Accepting.</b> Clients must present a certificate when a trusted CA file is given or
 * client-cert-auth is on (etcd's {@code RequireAndVerifyClientCert} rule); it is verified against
 * the CA file (the JDK's default trust store without one), then the CRL and allowed name
 * ({@link CertificateCheck}).
 *
 * <p><b>Dialing</b> (peers). The server's certificate is verified against the CA file (or the
 * default trust store), and its host name by the caller's TLS engine; with auto-TLS it is not
 * verified at all, as etcd sets {@code InsecureSkipVerify} for self-signed certificates.
 *
 * <p>Files are read once, at start (etcd rereads the certificate on every handshake; restart to
 * rotate), except the CRL, which is reread when it changes.
 */
public final class TlsMaterial {
  private static final System.Logger LOG = System.getLogger(TlsMaterial.class.getName());
  /** The key store password of the in-memory key store; it never leaves this process. */
  private static final char[] NO_PASSWORD = new char[0];

  private final String side;
  private final List<X509Certificate> chain;
  private final PrivateKey key;
  private final boolean selfSigned;
  private final List<X509Certificate> trusted;
  private final boolean clientCertRequired;
  private final RevocationList crl;
  private final TlsConfig cfg;
  private final List<String> cipherSuites;
  private final List<String> protocols;

  private TlsMaterial(String side, List<X509Certificate> chain, PrivateKey key, boolean selfSigned,
      List<X509Certificate> trusted, boolean clientCertRequired, RevocationList crl, TlsConfig cfg,
      List<String> cipherSuites) {
    this.side = side;
    this.chain = List.copyOf(chain);
    this.key = key;
    this.selfSigned = selfSigned;
    this.trusted = List.copyOf(trusted);
    this.clientCertRequired = clientCertRequired;
    this.crl = crl;
    this.cfg = cfg;
    this.cipherSuites = cipherSuites;
    this.protocols = CipherSuites.protocols(cipherSuites);
  }

  /** The directory etcd keeps a side's auto-TLS certificate in. */
  public static Path autoTlsDir(Path dataDir, String side) {
    return dataDir.resolve("fixtures").resolve(side);
  }
  /** The certificate {@code --auto-tls} (or {@code --peer-auto-tls}) wrote for {@code side}. */
  public static Path autoTlsCertFile(Path dataDir, String side) {
    return autoTlsDir(dataDir, side).resolve(SelfSignedCertificate.CERT_FILE);
  }


  /**
   * Loads (or, for auto-TLS, makes) the material of one side.
   *
   * @param side "client" or "peer": names the auto-TLS directory and log lines
   * @param cfg the side's flags; must be {@link TlsConfig#enabled()}
   * @param goCipherSuites {@code --cipher-suites}, Go names; empty for the defaults
   * @param listenUrls the side's listen URLs: their hosts go into an auto-TLS certificate
   */
  public static TlsMaterial load(String side, TlsConfig cfg, List<String> goCipherSuites, Path dataDir,
      List<URI> listenUrls) throws TlsException {
    return load(side, cfg, goCipherSuites, dataDir, listenUrls, Clock.systemUTC(), new SecureRandom());
  }

  static TlsMaterial load(String side, TlsConfig cfg, List<String> goCipherSuites, Path dataDir,
      List<URI> listenUrls, Clock clock, SecureRandom random) throws TlsException {
    if (!cfg.enabled()) {
      throw new IllegalArgumentException(side + " TLS is not configured");
    }
    if (cfg.allowedCn() != null && cfg.allowedHostname() != null) {
      throw new TlsException("AllowedCN and AllowedHostname are mutually exclusive (cn=\"" + cfg.allowedCn()
          + "\", hostname=\"" + cfg.allowedHostname() + "\")");
    }
    List<String> suites = CipherSuites.supported(CipherSuites.toJsse(goCipherSuites));
    TlsMaterial m;
    if (cfg.hasCertFiles()) {
      if (cfg.autoTls()) {
        LOG.log(System.Logger.Level.WARNING, "ignoring {0} auto TLS since certs given", side);
      }
      List<X509Certificate> chain = Pem.certificates(cfg.certFile());
      PrivateKey key = Pem.privateKey(cfg.keyFile());
      checkKeyMatches(chain.get(0), key, cfg.keyFile());
      List<X509Certificate> trusted = cfg.trustedCaFile() == null ? List.of() : Pem.certificates(cfg.trustedCaFile());
      RevocationList crl = cfg.crlFile() == null ? null : RevocationList.load(cfg.crlFile());
      boolean required = cfg.trustedCaFile() != null || cfg.clientCertAuth();
      m = new TlsMaterial(side, chain, key, false, trusted, required, crl, cfg, suites);
    } else {
      SelfSignedCertificate.KeyPairFiles files =
          SelfSignedCertificate.ensure(autoTlsDir(dataDir, side), listenUrls, clock, random);
      List<X509Certificate> chain = Pem.certificates(files.certFile());
      PrivateKey key = Pem.privateKey(files.keyFile());
      checkKeyMatches(chain.get(0), key, files.keyFile());
      TlsConfig self = new TlsConfig(files.certFile(), files.keyFile(), null, false, true, null, null, null);
      m = new TlsMaterial(side, chain, key, true, List.of(), false, null, self, suites);
    }
    LOG.log(System.Logger.Level.INFO, "{0} TLS: {1}", side, m);
    return m;
  }

  /** True when this side uses a generated self-signed certificate. */
  public boolean selfSigned() {
    return selfSigned;
  }

  /** This side's certificate (the first of its chain). */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** Whether connecting clients must present a certificate. */
  public boolean clientCertRequired() {
    return clientCertRequired;
  }

  /** JSSE cipher suite names in preference order; empty means the TLS engine's defaults. */
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  /** JSSE protocol names to enable ({@code TLSv1.3}, {@code TLSv1.2}). */
  public List<String> protocols() {
    return protocols;
  }

  /** Presents this side's certificate and key, to clients and, when dialing, to servers. */
  public KeyManagerFactory keyManagerFactory() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("key", key, NO_PASSWORD, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, NO_PASSWORD);
      return kmf;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot hold the " + side + " key in a key store", e);
    }
  }

  /** Checks the certificates of connecting clients (when {@link #clientCertRequired()}). */
  public X509ExtendedTrustManager acceptingTrustManager() {
    return new CertificateCheck(side, selfSigned ? null : chainVerifier(), crl, cfg.allowedCn(), cfg.allowedHostname());
  }

  /** Checks the certificates of servers this side dials; accepts any with auto-TLS. */
  public X509ExtendedTrustManager dialingTrustManager() {
    return new CertificateCheck(side, selfSigned ? null : chainVerifier(), null, null, null);
  }

  private X509ExtendedTrustManager chainVerifier() {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (trusted.isEmpty()) {
        tmf.init((KeyStore) null);
      } else {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int i = 0;
        for (X509Certificate c : trusted) {
          ks.setCertificateEntry("ca-" + i++, c);
        }
        tmf.init(ks);
      }
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("the JDK offers no X509ExtendedTrustManager");
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build the " + side + " trust store", e);
    }
  }

  /** Go's {@code tls.X509KeyPair} refuses a key that is not the certificate's; so do we. */
  private static void checkKeyMatches(X509Certificate cert, PrivateKey key, Path keyFile) throws TlsException {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new TlsException("tls: unsupported private key type " + key.getAlgorithm() + " in " + keyFile);
    };
    byte[] probe = "kvorum key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (v.verify(sig)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // A key of another type than the certificate's: a mismatch too.
    }
    throw new TlsException("tls: private key in " + keyFile + " does not match public key");
  }

  /** etcd's TLS info line: cert, key, trusted CA, client-cert-auth, CRL. */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    parts.add("cert = " + cfg.certFile());
    parts.add("key = " + cfg.keyFile());
    parts.add("trusted-ca = " + (cfg.trustedCaFile() == null ? "" : cfg.trustedCaFile()));
    parts.add("client-cert-auth = " + clientCertRequired);
    parts.add("crl-file = " + (crl == null ? "" : crl.file()));
    if (selfSigned) {
      parts.add("self-signed");
    }
    if (cfg.allowedCn() != null) {
      parts.add("allowed-cn = " + cfg.allowedCn());
    }
    if (cfg.allowedHostname() != null) {
      parts.add("allowed-hostname = " + cfg.allowedHostname());
    }
    if (!cipherSuites.isEmpty()) {
      parts.add("cipher-suites = " + String.join(",", cipherSuites));
    }
    return String.join(", ", parts);
  }
}
