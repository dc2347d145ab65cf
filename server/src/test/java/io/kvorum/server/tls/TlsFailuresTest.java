package io.kvorum.server.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class TlsFailuresTest {
  @Test
  void describe_receivedAlert_usesGoWords() {
    assertThat(TlsFailures.describe(new IOException("io", new SSLHandshakeException("Received fatal alert: bad_certificate"))))
        .isEqualTo("remote error: tls: bad certificate");
    assertThat(TlsFailures.describe(new SSLHandshakeException("Received fatal alert: unknown_ca")))
        .isEqualTo("remote error: tls: unknown certificate authority");
  }

  @Test
  void describe_jsseRefusal_readsAsGoBadCertificate() {
    assertThat(TlsFailures.describe(new javax.net.ssl.SSLException("Received fatal alert: certificate_unknown")))
        .isEqualTo("remote error: tls: bad certificate (alert certificate_unknown)");
  }

  @Test
  void describe_localFailure_prefixedWithTls() {
    assertThat(TlsFailures.describe(new SSLHandshakeException("PKIX path building failed")))
        .isEqualTo("tls: PKIX path building failed");
  }

  @Test
  void describe_whatAListenerSees_usesGoWords() {
    assertThat(TlsFailures.describe(new javax.net.ssl.SSLException("not an SSL/TLS record: 474554202f")))
        .isEqualTo("tls: first record does not look like a TLS handshake");
    assertThat(TlsFailures.describe(new SSLHandshakeException("Empty client certificate chain")))
        .isEqualTo("tls: client didn't provide a certificate");
    assertThat(TlsFailures.describe(new SSLHandshakeException("PKIX path building failed: x: unable to find valid "
        + "certification path to requested target"))).startsWith("x509: certificate signed by unknown authority (");
    assertThat(TlsFailures.describe(new SSLHandshakeException(CertificateCheck.AUTHENTICATION_FAILED + " (common name)")))
        .isEqualTo("client certificate authentication failed (common name)");
  }

  @Test
  void logRejected_remoteAddressAsGoPrintsIt() {
    assertThat(TlsFailures.address(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 4001)))
        .isEqualTo("127.0.0.1:4001");
    assertThat(TlsFailures.address(new java.net.InetSocketAddress("::1", 4001))).isEqualTo("[0:0:0:0:0:0:0:1]:4001");
  }

  @Test
  void describe_notTls_null() {
    assertThat(TlsFailures.describe(new IOException("connection refused"))).isNull();
    assertThat(TlsFailures.describe(null)).isNull();
  }
}
