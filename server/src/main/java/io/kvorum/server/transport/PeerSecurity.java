package io.kvorum.server.transport;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.kvorum.server.config.TlsConfig;
import io.kvorum.server.tls.TlsException;
import io.kvorum.server.tls.TlsFailures;
import io.kvorum.server.tls.TlsMaterial;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * How members secure their connections to each other.
 *
 * <p>Callers outside this package only pick a value ({@link #plaintext()}, {@link #tls} or
 * {@link #forMember} from the peer flags); the gRPC and netty types stay behind package-private
 * methods. With TLS, the URL's scheme decides per connection, as in etcd: {@code https} and
 * {@code unixs} use TLS, {@code http} and {@code unix} stay plaintext (etcd warns and ignores the
 * certificate for them).
 *
 * <p><b>TLS.</b> Both ends use the JDK's TLS engine (netty's OpenSSL engine would be faster, but
 * exists only where gRPC ships natives, and verifies and alerts differently), with gRPC's HTTP/2
 * settings (ALPN h2). The listening end presents the member's certificate and, when
 * {@link TlsMaterial#clientCertRequired()}, demands and checks the dialing member's (CA, CRL,
 * allowed CN or host name). The dialing end presents its certificate when asked and checks the
 * listener's against the CA and the URL's host (gRPC turns on host name verification), or not at
 * all with auto-TLS. Rejections are logged by the check that made them; a dialing member learns of
 * its own rejection from the alert, logged by {@link PeerSender} in Go's words
 * ({@code remote error: tls: bad certificate}).
 */
public abstract class PeerSecurity {
  private static final PeerSecurity PLAINTEXT = new Plaintext();

  PeerSecurity() {}

  /** No TLS: {@code http://} and {@code unix://} peer URLs. */
  public static PeerSecurity plaintext() {
    return PLAINTEXT;
  }

  /** TLS with {@code material} on {@code https://} and {@code unixs://} URLs, plaintext on the others. */
  public static PeerSecurity tls(TlsMaterial material) {
    return new Tls(material);
  }

  /**
   * The security the peer flags ask for: plaintext when peer TLS is off, else TLS with the peer
   * certificate files or, with {@code --peer-auto-tls}, a self-signed certificate kept under
   * {@code dataDir}.
   *
   * @throws UncheckedIOException wrapping a {@link TlsException} when the TLS files are unusable
   */
  public static PeerSecurity forMember(TlsConfig peerTls, List<String> cipherSuites, Path dataDir,
      List<URI> listenPeerUrls) {
    if (!peerTls.enabled()) {
      return plaintext();
    }
    try {
      return tls(TlsMaterial.load("peer", peerTls, cipherSuites, dataDir, listenPeerUrls));
    } catch (TlsException e) {
      throw new UncheckedIOException("peer TLS: " + e.getMessage(), e);
    }
  }

  /**
   * Checks that {@code url} can be used with this security.
   *
   * @throws IllegalArgumentException naming the URL when its scheme does not fit
   */
  abstract void checkScheme(URI url);

  /** Secures (or not) the connection a channel builder will make to {@code ep}. */
  abstract void configure(NettyChannelBuilder builder, Endpoint ep);

  /**
   * The negotiator gRPC's server on {@code ep} uses — TLS or plaintext — and the TLS context a raft
   * stream accepted there uses (null for plaintext).
   */
  abstract ServerSide serverSide(Endpoint ep);

  /** TLS for a raft stream dialing {@code ep} (host name checked as gRPC does), or null for plaintext. */
  abstract SslHandler clientTlsHandler(ByteBufAllocator alloc, Endpoint ep);

  /** How a server on one endpoint secures what it accepts. */
  record ServerSide(InternalProtocolNegotiator.ProtocolNegotiator grpc, SslContext tls) {
    /** A TLS handler for a raft stream accepted here, or null for plaintext. */
    SslHandler tlsHandler(ByteBufAllocator alloc) {
      return tls == null ? null : tls.newHandler(alloc);
    }
  }

  /** The name a certificate must carry for {@code ep}: the URL's host, or for a domain socket its authority. */
  static String verifiedHost(Endpoint ep) {
    if (!ep.isDomainSocket()) {
      return ep.host();
    }
    String authority = ep.url().getRawAuthority();
    return authority == null || authority.isEmpty() ? "localhost" : authority;
  }

  /** Why a connection failed, when TLS is the reason, in Go's words; else null. */
  String tlsFailure(Throwable t) {
    return t == null ? null : TlsFailures.describe(t);
  }

  static String scheme(URI url) {
    return url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
  }

  static boolean isSecureScheme(URI url) {
    String s = scheme(url);
    return s.equals("https") || s.equals("unixs");
  }

  private static void checkKnownScheme(URI url) {
    switch (scheme(url)) {
      case "http", "unix", "https", "unixs" -> { }
      default -> throw new IllegalArgumentException(
          "peer URL " + url + " must use the http, https, unix or unixs scheme");
    }
  }

  private static final class Plaintext extends PeerSecurity {
    @Override
    void checkScheme(URI url) {
      checkKnownScheme(url);
      if (isSecureScheme(url)) {
        throw new IllegalArgumentException(
            "peer URL " + url + " needs peer TLS (--peer-cert-file, --peer-key-file), which is not configured");
      }
    }

    @Override
    void configure(NettyChannelBuilder builder, Endpoint ep) {
      builder.negotiationType(NegotiationType.PLAINTEXT);
    }

    @Override
    ServerSide serverSide(Endpoint ep) {
      return new ServerSide(InternalProtocolNegotiators.serverPlaintext(), null);
    }

    @Override
    SslHandler clientTlsHandler(ByteBufAllocator alloc, Endpoint ep) {
      return null;
    }
  }

  private static final class Tls extends PeerSecurity {
    private static final System.Logger LOG = System.getLogger(PeerSecurity.class.getName());
    private final SslContext server;
    private final SslContext client;

    Tls(TlsMaterial material) {
      try {
        SslContextBuilder sb = GrpcSslContexts.configure(SslContextBuilder.forServer(material.keyManagerFactory()),
            SslProvider.JDK)
            .trustManager(material.acceptingTrustManager())
            .clientAuth(material.clientCertRequired() ? ClientAuth.REQUIRE : ClientAuth.NONE)
            .protocols(material.protocols());
        SslContextBuilder cb = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
            .keyManager(material.keyManagerFactory())
            .trustManager(material.dialingTrustManager())
            .protocols(material.protocols());
        if (!material.cipherSuites().isEmpty()) {
          sb.ciphers(material.cipherSuites(), SupportedCipherSuiteFilter.INSTANCE);
          cb.ciphers(material.cipherSuites(), SupportedCipherSuiteFilter.INSTANCE);
        }
        this.server = sb.build();
        this.client = cb.build();
      } catch (SSLException e) {
        throw new IllegalStateException("cannot set up peer TLS: " + e.getMessage(), e);
      }
    }

    @Override
    void checkScheme(URI url) {
      checkKnownScheme(url);
    }

    @Override
    void configure(NettyChannelBuilder builder, Endpoint ep) {
      if (!isSecureScheme(ep.url())) {
        builder.negotiationType(NegotiationType.PLAINTEXT);
        return;
      }
      builder.sslContext(client).negotiationType(NegotiationType.TLS);
      if (ep.isDomainSocket()) {
        // The name the certificate must carry: the URL's host, as etcd's dialer takes it.
        builder.overrideAuthority(verifiedHost(ep));
      }
    }

    @Override
    ServerSide serverSide(Endpoint ep) {
      if (isSecureScheme(ep.url())) {
        return new ServerSide(InternalProtocolNegotiators.serverTls(server), server);
      }
      LOG.log(System.Logger.Level.WARNING,
          "scheme is HTTP while key and cert files are present; ignoring key and cert files (peer-url {0})", ep.url());
      return PLAINTEXT.serverSide(ep);
    }

    @Override
    SslHandler clientTlsHandler(ByteBufAllocator alloc, Endpoint ep) {
      if (!isSecureScheme(ep.url())) {
        return null;
      }
      String host = verifiedHost(ep);
      SSLEngine engine = client.newEngine(alloc, host, Math.max(ep.port(), 0));
      // As gRPC's own TLS client: the peer's certificate must name the host dialed.
      SSLParameters params = engine.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(params);
      return new SslHandler(engine);
    }
  }
}
