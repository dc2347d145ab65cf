package io.kvorum.server.transport;

import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.URI;
import java.util.Locale;

/**
 * How members secure their connections to each other: the seam where peer TLS plugs in.
 *
 * <p>Callers outside this package only pick a value ({@link #plaintext()} today; a
 * {@code tls(TlsConfig)} factory later); the gRPC and netty types stay behind package-private
 * methods. A TLS implementation will build a netty {@code SslContext} (gRPC's
 * {@code GrpcSslContexts.forClient()/forServer()}) from the peer certificate files, set it on both
 * builders, accept the {@code https}/{@code unixs} schemes, and check etcd's
 * {@code --peer-cert-allowed-cn}/{@code -hostname} in a server interceptor.
 */
public abstract class PeerSecurity {
  private static final PeerSecurity PLAINTEXT = new Plaintext();

  PeerSecurity() {}

  /** No TLS: {@code http://} and {@code unix://} peer URLs. */
  public static PeerSecurity plaintext() {
    return PLAINTEXT;
  }

  /**
   * Checks that {@code url} can be used with this security.
   *
   * @throws IllegalArgumentException naming the URL when its scheme does not fit
   */
  abstract void checkScheme(URI url);

  /** Secures (or not) the connection a channel builder will make. */
  abstract void configure(NettyChannelBuilder builder);

  /** Secures (or not) the connections a server accepts. */
  abstract void configure(NettyServerBuilder builder);

  private static final class Plaintext extends PeerSecurity {
    @Override
    void checkScheme(URI url) {
      String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
      switch (scheme) {
        case "http", "unix" -> { }
        case "https", "unixs" -> throw new IllegalArgumentException(
            "peer URL " + url + " needs peer TLS (--peer-cert-file, --peer-key-file), which is not configured");
        default -> throw new IllegalArgumentException(
            "peer URL " + url + " must use the http, https, unix or unixs scheme");
      }
    }

    @Override
    void configure(NettyChannelBuilder builder) {
      builder.negotiationType(NegotiationType.PLAINTEXT);
    }

    @Override
    void configure(NettyServerBuilder builder) {
      // A server without TLS credentials accepts plaintext HTTP/2.
    }
  }
}
