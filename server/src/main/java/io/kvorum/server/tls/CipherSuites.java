package io.kvorum.server.tls;

import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * etcd's {@code --cipher-suites}: Go's cipher suite names, turned into JSSE's.
 *
 * <p>etcd accepts exactly the names Go's {@code tls.CipherSuites()} and
 * {@code tls.InsecureCipherSuites()} list, plus two older spellings of the ChaCha20 suites, and
 * fails at start on any other with {@code unexpected TLS cipher suite "X"}. Go's names are the IANA
 * names, which JSSE uses too, so only the two old spellings need translating. A suite the JDK
 * does not implement (the RC4 and 3DES ones) is accepted like etcd accepts it, and simply never
 * negotiated.
 *
 * <p><b>Protocol versions.</b> Go applies the list to TLS 1.2 only and always negotiates TLS 1.3
 * when the client can, with TLS 1.3's own suites. A listener then still accepts a client whose
 * TLS 1.2 offer lies entirely outside the list, which is what an operator restricting suites
 * wants to prevent. So, with a list, we serve TLS 1.2 only, unless the list names TLS 1.3 suites
 * too; without a list, TLS 1.2 and 1.3, as etcd (minimum version 1.2).
 */
public final class CipherSuites {
  private static final System.Logger LOG = System.getLogger(CipherSuites.class.getName());
  /** TLS 1.3 suites, by Go's (and IANA's) name. */
  private static final Set<String> TLS13 = Set.of(
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256");

  /** TLS 1.0-1.2 suites Go knows (tls.CipherSuites and tls.InsecureCipherSuites). */
  private static final Set<String> TLS12 = Set.of(
      "TLS_RSA_WITH_RC4_128_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");

  /** Names etcd 3.4 accepts besides Go's, and their IANA/JSSE names. */
  private static final Map<String, String> ALIASES = Map.of(
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");

  public static final String TLS_1_2 = "TLSv1.2";
  public static final String TLS_1_3 = "TLSv1.3";

  private CipherSuites() {}

  /**
   * The JSSE names of {@code goNames}, in order (the server's preference order, as etcd's).
   *
   * @throws TlsException with etcd's message for a name Go does not know
   */
  public static List<String> toJsse(List<String> goNames) throws TlsException {
    List<String> out = new ArrayList<>(goNames.size());
    for (String raw : goNames) {
      String name = raw.trim();
      String jsse = ALIASES.getOrDefault(name, name);
      if (!TLS12.contains(jsse) && !TLS13.contains(jsse)) {
        throw new TlsException("unexpected TLS cipher suite \"" + name + "\"");
      }
      if (!out.contains(jsse)) {
        out.add(jsse);
      }
    }
    return List.copyOf(out);
  }

  /**
   * The suites of {@code jsse} that this JDK implements, in order; the others are logged and
   * dropped (Go knows a few the JDK removed, such as RC4).
   *
   * @throws TlsException when none is left, as there would be nothing to negotiate
   */
  static List<String> supported(List<String> jsse) throws TlsException {
    if (jsse.isEmpty()) {
      return jsse;
    }
    Set<String> implemented;
    try {
      implemented = Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new TlsException("the JDK has no default TLS implementation", e);
    }
    List<String> out = new ArrayList<>();
    for (String s : jsse) {
      if (implemented.contains(s)) {
        out.add(s);
      } else {
        LOG.log(System.Logger.Level.WARNING, "cipher suite {0} is not implemented by this JDK; it is never negotiated", s);
      }
    }
    if (out.isEmpty()) {
      throw new TlsException("none of the cipher suites " + jsse + " is implemented by this JDK");
    }
    return List.copyOf(out);
  }

  /** The protocol versions to serve with the JSSE suites {@code jsse} (empty: no restriction). */
  public static List<String> protocols(List<String> jsse) {
    if (jsse.isEmpty()) {
      return List.of(TLS_1_3, TLS_1_2);
    }
    boolean tls13 = jsse.stream().anyMatch(TLS13::contains);
    boolean tls12 = jsse.stream().anyMatch(TLS12::contains);
    if (tls13 && tls12) {
      return List.of(TLS_1_3, TLS_1_2);
    }
    return tls13 ? List.of(TLS_1_3) : List.of(TLS_1_2);
  }
}
