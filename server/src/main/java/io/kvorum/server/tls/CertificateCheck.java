package io.kvorum.server.tls;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * What one side checks of the certificate the other side presents, in etcd's order: the chain
 * against the trusted CAs (skipped with auto-TLS), then, for connections we accept, the CRL serials
 * and the allowed common name or host name ({@code --peer-cert-allowed-cn},
 * {@code --peer-cert-allowed-hostname}).
 *
 * <p>etcd's allowed-name check fails with "client certificate authentication failed", and so does
 * this one. A rejection of a connection we accept is not logged here: its reason, with the
 * certificate's subject added, becomes the handshake's failure, which the listener logs once per
 * connection with the remote address ({@link TlsFailures#logRejected}), as etcd's listener logs
 * "rejected connection" for every failed handshake. etcd also applies the allowed name to the certificates of the members it
 * dials (its client and server share one {@code tls.Config}); this check does not: the flag
 * restricts who may connect, and the server we dial is already verified against the CA and the
 * URL's host name. A member with a foreign name is still shut out, by every member it dials.
 */
final class CertificateCheck extends X509ExtendedTrustManager {
  private static final System.Logger LOG = System.getLogger(CertificateCheck.class.getName());
  static final String AUTHENTICATION_FAILED = "client certificate authentication failed";

  private final String side;
  /** Verifies chains against the trusted CAs; null accepts any chain (auto-TLS). */
  private final X509ExtendedTrustManager chains;
  private final RevocationList crl;
  private final String allowedCn;
  private final String allowedHostname;

  /**
   * @param side "client" or "peer", for log lines
   * @param chains chain verifier, or null to accept any chain
   * @param crl revocation list checked on accepted connections, or null
   * @param allowedCn the only common name accepted on accepted connections, or null
   * @param allowedHostname the only host name accepted on accepted connections, or null
   */
  CertificateCheck(String side, X509ExtendedTrustManager chains, RevocationList crl, String allowedCn,
      String allowedHostname) {
    this.side = side;
    this.chains = chains;
    this.crl = crl;
    this.allowedCn = allowedCn;
    this.allowedHostname = allowedHostname;
  }

  // ------------------------------------------------------------------ connections we accept

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    try {
      if (chains != null) {
        chains.checkClientTrusted(chain, authType, engine);
      }
      checkAccepted(chain);
    } catch (CertificateException e) {
      throw rejected(chain, e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    try {
      if (chains != null) {
        chains.checkClientTrusted(chain, authType, socket);
      }
      checkAccepted(chain);
    } catch (CertificateException e) {
      throw rejected(chain, e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    try {
      if (chains != null) {
        chains.checkClientTrusted(chain, authType);
      }
      checkAccepted(chain);
    } catch (CertificateException e) {
      throw rejected(chain, e);
    }
  }

  private void checkAccepted(X509Certificate[] chain) throws CertificateException {
    if (crl != null) {
      crl.check(chain);
    }
    if (allowedCn != null && !allowedCn.equals(commonName(chain[0]))) {
      throw new CertificateException(AUTHENTICATION_FAILED + " (common name \"" + commonName(chain[0])
          + "\" is not the allowed \"" + allowedCn + "\")");
    }
    if (allowedHostname != null && !matchesHost(chain[0], allowedHostname)) {
      throw new CertificateException(AUTHENTICATION_FAILED + " (certificate is not valid for the allowed host name \""
          + allowedHostname + "\")");
    }
  }

  // ------------------------------------------------------------------ connections we dial

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    if (chains != null) {
      try {
        chains.checkServerTrusted(chain, authType, engine);
      } catch (CertificateException e) {
        throw refused(chain, e);
      }
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    if (chains != null) {
      try {
        chains.checkServerTrusted(chain, authType, socket);
      } catch (CertificateException e) {
        throw refused(chain, e);
      }
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    if (chains != null) {
      try {
        chains.checkServerTrusted(chain, authType);
      } catch (CertificateException e) {
        throw refused(chain, e);
      }
    }
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return chains == null ? new X509Certificate[0] : chains.getAcceptedIssuers();
  }

  /** {@code e} with the refused certificate named; the listener that fails the handshake logs it. */
  private static CertificateException rejected(X509Certificate[] chain, CertificateException e) {
    return new CertificateException(e.getMessage() + " (certificate " + subject(chain) + ")", e);
  }

  private CertificateException refused(X509Certificate[] chain, CertificateException e) {
    LOG.log(System.Logger.Level.WARNING, "{0} server certificate refused: {1} (certificate {2})", side, e.getMessage(),
        subject(chain));
    return e;
  }

  private static String subject(X509Certificate[] chain) {
    return chain == null || chain.length == 0 ? "none" : chain[0].getSubjectX500Principal().getName();
  }

  /** The certificate's subject common name, "" when it has none. */
  static String commonName(X509Certificate c) {
    X500Name name = X500Name.getInstance(c.getSubjectX500Principal().getEncoded());
    RDN[] cns = name.getRDNs(BCStyle.CN);
    return cns.length == 0 ? "" : IETFUtils.valueToString(cns[0].getFirst().getValue());
  }

  /**
   * Go's {@code x509.Certificate.VerifyHostname}: an IP literal must equal an IP address SAN; a
   * name must match a DNS SAN, case-insensitively, where {@code *.} matches exactly one leftmost
   * label. The common name is not consulted (Go stopped doing so in 1.15).
   */
  static boolean matchesHost(X509Certificate c, String host) throws CertificateParsingException {
    String h = host.trim();
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    Collection<List<?>> sans = c.getSubjectAlternativeNames();
    if (sans == null) {
      return false;
    }
    if (SelfSignedCertificate.isIpLiteral(h)) {
      InetAddress want = literal(h);
      for (List<?> san : sans) {
        if (((Integer) san.get(0)) == 7 && want != null && want.equals(literal((String) san.get(1)))) {
          return true;
        }
      }
      return false;
    }
    String name = h.toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    for (List<?> san : sans) {
      if (((Integer) san.get(0)) == 2 && dnsMatch(((String) san.get(1)).toLowerCase(Locale.ROOT), name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean dnsMatch(String pattern, String name) {
    if (pattern.endsWith(".")) {
      pattern = pattern.substring(0, pattern.length() - 1);
    }
    if (pattern.startsWith("*.")) {
      int dot = name.indexOf('.');
      return dot > 0 && name.substring(dot).equals(pattern.substring(1));
    }
    return pattern.equals(name);
  }

  /** An IP literal as an address, null if it is not one; never a name lookup. */
  private static InetAddress literal(String ip) {
    if (!SelfSignedCertificate.isIpLiteral(ip)) {
      return null;
    }
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
