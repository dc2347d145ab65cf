package io.kvorum.server.api;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** The Common Name a client's verified certificate carries, as etcd reads it (gRPC and the gateway). */
public final class CommonNames {
  private CommonNames() {}

  /** The Common Name of the client certificate the TLS session verified, or null. */
  public static String of(SSLSession session) {
    if (session == null) {
      return null;
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return null;
    }
    try {
      LdapName name = new LdapName(leaf.getSubjectX500Principal().getName());
      // RFC 2253 names list the most specific part last; Go takes the subject's (last) CN.
      for (int i = name.size() - 1; i >= 0; i--) {
        Rdn rdn = name.getRdn(i);
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }
}
