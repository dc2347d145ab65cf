package io.kvorum.server.tls;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Says why a TLS connection failed in Go's words, which etcd's logs use and its tools (and
 * etcd's own test suite) look for: an alert the other side sent is
 * {@code remote error: tls: <alert>}, with Go's alert texts ("bad certificate", "unknown
 * certificate authority", ...).
 *
 * <p>One exception: a JSSE peer whose trust manager refuses our certificate (unknown CA, revoked,
 * not the allowed name) always answers {@code certificate_unknown}, where a Go peer answers
 * {@code bad_certificate} to the same refusal. etcd's tools look for Go's words, so that alert
 * reads "bad certificate" too, with the alert's own name added. The failures a listening end sees
 * most read as Go's too: plaintext on a TLS port ("tls: first record does not look like a TLS
 * handshake"), a client that presents no certificate where one is required ("tls: client didn't
 * provide a certificate"), a certificate of an unknown CA ("x509: certificate signed by unknown
 * authority").
 *
 * <p>Every connection a TLS listener refuses is logged once, by {@link #logRejected}, as etcd's
 * listeners log each failed handshake ("rejected connection" with the remote address and the
 * error), whatever failed: plaintext, no certificate, a certificate the check refused, an alert
 * from the other side.
 */
public final class TlsFailures {
  private static final System.Logger LOG = System.getLogger(TlsFailures.class.getName());
  private static final Pattern RECEIVED_ALERT = Pattern.compile("Received fatal alert: ([a-z_]+)");
  /** How deep a cause chain is searched; chains are short, this only stops cycles. */
  private static final int CAUSES_MAX = 16;

  /** JSSE's alert names to Go's alert texts. */
  private static final Map<String, String> GO_ALERTS = Map.ofEntries(
      Map.entry("close_notify", "close notify"),
      Map.entry("unexpected_message", "unexpected message"),
      Map.entry("bad_record_mac", "bad record MAC"),
      Map.entry("decryption_failed", "decryption failed"),
      Map.entry("record_overflow", "record overflow"),
      Map.entry("decompression_failure", "decompression failure"),
      Map.entry("handshake_failure", "handshake failure"),
      Map.entry("bad_certificate", "bad certificate"),
      Map.entry("unsupported_certificate", "unsupported certificate"),
      Map.entry("certificate_revoked", "revoked certificate"),
      Map.entry("certificate_expired", "expired certificate"),
      Map.entry("certificate_unknown", "unknown certificate"),
      Map.entry("illegal_parameter", "illegal parameter"),
      Map.entry("unknown_ca", "unknown certificate authority"),
      Map.entry("access_denied", "access denied"),
      Map.entry("decode_error", "error decoding message"),
      Map.entry("decrypt_error", "error decrypting message"),
      Map.entry("protocol_version", "protocol version not supported"),
      Map.entry("insufficient_security", "insufficient security level"),
      Map.entry("internal_error", "internal error"),
      Map.entry("inappropriate_fallback", "inappropriate fallback"),
      Map.entry("user_canceled", "user canceled"),
      Map.entry("no_renegotiation", "no renegotiation"),
      Map.entry("missing_extension", "missing extension"),
      Map.entry("unsupported_extension", "unsupported extension"),
      Map.entry("unrecognized_name", "unrecognized name"),
      Map.entry("certificate_required", "certificate required"),
      Map.entry("no_application_protocol", "no application protocol"));

  private TlsFailures() {}

  /**
   * The TLS reason behind {@code t} (searched along its causes), or null when it is not a TLS
   * failure.
   */
  public static String describe(Throwable t) {
    int depth = 0;
    for (Throwable c = t; c != null && depth < CAUSES_MAX; c = c.getCause(), depth++) {
      if (c instanceof SSLException) {
        String msg = c.getMessage() == null ? "" : c.getMessage();
        Matcher m = RECEIVED_ALERT.matcher(msg);
        if (m.find()) {
          String alert = m.group(1);
          if (alert.equals("certificate_unknown")) {
            return "remote error: tls: bad certificate (alert certificate_unknown)";
          }
          return "remote error: tls: " + GO_ALERTS.getOrDefault(alert, alert.replace('_', ' '));
        }
        if (msg.startsWith("not an SSL/TLS record")) {
          // netty's words for it, followed by a hex dump of what came.
          return "tls: first record does not look like a TLS handshake";
        }
        if (msg.startsWith(CertificateCheck.AUTHENTICATION_FAILED)) {
          // etcd's allowed-name check: Go reports the check's own error as it is.
          return msg;
        }
        if (msg.equals("Empty client certificate chain")) {
          return "tls: client didn't provide a certificate";
        }
        if (msg.contains("unable to find valid certification path")) {
          return "x509: certificate signed by unknown authority (" + msg + ")";
        }
        return "tls: " + msg;
      }
    }
    return null;
  }

  /**
   * Logs that a listener on the {@code side} port ("client", "peer", "metrics") refused the
   * connection from {@code remote} because its handshake failed with {@code cause}; once per
   * connection, as etcd's {@code rejected connection}.
   */
  public static void logRejected(String side, SocketAddress remote, Throwable cause) {
    String why = describe(cause);
    if (why == null) {
      why = cause == null ? "handshake failed" : String.valueOf(cause);
    }
    LOG.log(System.Logger.Level.WARNING, "rejected connection from \"{0}\" on the {1} port (error \"{2}\")",
        address(remote), side, why);
  }

  /** {@code host:port} for an IP address, as Go prints a remote address; else the address as it reads. */
  static String address(SocketAddress a) {
    if (a instanceof InetSocketAddress ip && ip.getAddress() != null) {
      String host = ip.getAddress().getHostAddress();
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + ip.getPort();
    }
    return String.valueOf(a);
  }
}
