/**
 * TLS material for the client and peer listeners, as etcd's {@code --cert-file} and
 * {@code --peer-cert-file} families describe it: PEM certificates, keys and revocation lists,
 * self-signed auto-TLS certificates, etcd's cipher suite names, and the checks etcd makes on the
 * other side's certificate (trusted CA, CRL serials, allowed common name or host name).
 *
 * <p>The only package that imports BouncyCastle. It hands out JDK types ({@code KeyManagerFactory},
 * {@code X509TrustManager}, JSSE cipher and protocol names); the gRPC edges ({@code api},
 * {@code transport}) turn those into netty {@code SslContext}s.
 */
package io.kvorum.server.tls;
