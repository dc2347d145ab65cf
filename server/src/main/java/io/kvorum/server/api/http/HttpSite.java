package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufOutputStream;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http.QueryStringDecoder;
import io.kvorum.server.api.CommonNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import javax.net.ssl.SSLSession;

/**
 * The HTTP endpoints of one kind of listener, etcd's mux: on client URLs the JSON gateway under
 * {@code /v3/} (and {@code /v3beta/}, rewritten), {@code /health}, {@code /version} and
 * {@code /metrics}, behind etcd's access controller (CORS, {@code --host-whitelist}, and the
 * gateway's refusal of client certificates that carry a Common Name when auth is on); on
 * {@code --listen-metrics-urls} only {@code /metrics} and {@code /health}. Kvorum adds
 * {@code /livez} and {@code /readyz} to both (README, extensions).
 */
public final class HttpSite {
  private static final System.Logger LOG = System.getLogger(HttpSite.class.getName());
  /** Go's {@code http.NotFound} text. */
  private static final String NOT_FOUND = "404 page not found";
  private static final String GATEWAY_CN = "CommonName of client sending a request against gateway will be"
      + " ignored and not used as expected";

  private final Gateway gateway;
  private final HealthChecks health;
  private final MetricsPage metrics;
  private final Access access;

  private HttpSite(Gateway gateway, HealthChecks health, MetricsPage metrics, Access access) {
    this.gateway = gateway;
    this.health = health;
    this.metrics = metrics;
    this.access = access;
  }

  /** What etcd's access controller decides by: {@code --cors}, {@code --host-whitelist}, the CN rule. */
  public record Access(Set<String> cors, Set<String> hostWhitelist, boolean clientCertAuth) {
    boolean originAllowed(String origin) {
      return cors.isEmpty() || cors.contains("*") || (origin != null && cors.contains(origin));
    }

    boolean hostAllowed(String host) {
      return hostWhitelist.isEmpty() || hostWhitelist.contains("*") || hostWhitelist.contains(host);
    }
  }

  /** The client URLs' site. */
  public static HttpSite client(Gateway gateway, HealthChecks health, MetricsPage metrics, Access access) {
    return new HttpSite(gateway, health, metrics, access);
  }

  /** The {@code --listen-metrics-urls} site. */
  public static HttpSite metricsOnly(HealthChecks health, MetricsPage metrics) {
    return new HttpSite(null, health, metrics, null);
  }

  /** Puts the HTTP/1.1 handlers into {@code pipeline} after the handler named {@code after}. */
  void install(ChannelPipeline pipeline, String after, SSLSession session) {
    HttpServerCodec codec = new HttpServerCodec();
    HttpServerExpectContinueHandler expect = new HttpServerExpectContinueHandler();
    HttpConnection conn = new HttpConnection(this, session);
    pipeline.addAfter(after, null, codec);
    String codecName = pipeline.context(codec).name();
    pipeline.addAfter(codecName, null, expect);
    pipeline.addAfter(pipeline.context(expect).name(), null, conn);
  }

  /** The exchange that answers {@code req}. */
  Exchange open(ChannelHandlerContext ctx, HttpRequest req, SSLSession session, boolean keepAlive) {
    QueryStringDecoder uri = new QueryStringDecoder(req.uri(), StandardCharsets.UTF_8);
    String path = uri.path();
    FullHttpResponse refused = null;
    boolean options = false;
    String origin = req.headers().get(HttpHeaderNames.ORIGIN);
    if (access != null) {
      if (path.startsWith("/v3beta/")) {
        path = "/v3/" + path.substring("/v3beta/".length());
      }
      if (session == null) {
        String host = hostname(req.headers().get(HttpHeaderNames.HOST));
        if (!access.hostAllowed(host)) {
          refused = Responses.error(421, rebinding(host));
        }
      } else if (access.clientCertAuth() && gateway != null && gateway.authEnabled() && path.startsWith("/v3/")
          && CommonNames.of(session) != null) {
        refused = Responses.error(400, GATEWAY_CN);
      }
      options = req.method().equals(HttpMethod.OPTIONS);
    }
    String corsOrigin = null;
    if (access != null && refused == null) {
      corsOrigin = access.originAllowed("*") ? "*" : access.originAllowed(origin) ? origin : null;
    }
    if (refused != null) {
      return Fixed.now(ctx, refused, keepAlive, null);
    }
    if (options) {
      return Fixed.now(ctx, Responses.full(200, Responses.TEXT, new byte[0]), keepAlive, corsOrigin);
    }
    if (gateway != null && path.startsWith("/v3/")) {
      return gateway.open(ctx, req, path, keepAlive, corsOrigin);
    }
    boolean get = req.method().equals(HttpMethod.GET);
    switch (path) {
      case "/health":
        return get ? Fixed.later(ctx, health.health(uri.parameters()), keepAlive, corsOrigin)
            : Fixed.now(ctx, methodNotAllowed(), keepAlive, corsOrigin);
      case "/livez":
        return get ? Fixed.later(ctx, health.livez(uri.parameters()), keepAlive, corsOrigin)
            : Fixed.now(ctx, methodNotAllowed(), keepAlive, corsOrigin);
      case "/readyz":
        return get ? Fixed.later(ctx, health.readyz(uri.parameters()), keepAlive, corsOrigin)
            : Fixed.now(ctx, methodNotAllowed(), keepAlive, corsOrigin);
      case "/metrics":
        return Fixed.now(ctx, metrics == null ? Responses.error(404, NOT_FOUND) : scrape(ctx), keepAlive, corsOrigin);
      case "/version":
        if (access != null) {
          return Fixed.now(ctx, get ? health.version() : methodNotAllowed(), keepAlive, corsOrigin);
        }
        break;
      default:
        break;
    }
    return Fixed.now(ctx, Responses.error(404, NOT_FOUND), keepAlive, corsOrigin);
  }

  /** The metrics page, written straight into the response's buffer. */
  private FullHttpResponse scrape(ChannelHandlerContext ctx) {
    ByteBuf body = ctx.alloc().buffer();
    try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
      metrics.write(out);
    } catch (IOException | RuntimeException e) {
      body.release();
      LOG.log(System.Logger.Level.WARNING, "cannot render /metrics", e);
      return Responses.error(500, "Internal Server Error");
    }
    return Responses.full(200, metrics.contentType(), body);
  }

  static FullHttpResponse methodNotAllowed() {
    FullHttpResponse r = Responses.error(405, "Method Not Allowed");
    r.headers().set("Allow", "GET");
    return r;
  }

  /** Go's {@code httputil.GetHostname}: the Host header without its port. */
  static String hostname(String host) {
    if (host == null) {
      return "";
    }
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end > 0 && (end == host.length() - 1 || host.charAt(end + 1) == ':') ? host.substring(1, end) : host;
    }
    int colon = host.indexOf(':');
    if (colon >= 0 && host.indexOf(':', colon + 1) < 0) {
      return host.substring(0, colon);
    }
    return host;
  }

  private static String rebinding(String host) {
    return "\netcd received your request, but the Host header was unrecognized.\n\n"
        + "To fix this, choose one of the following options:\n"
        + "- Enable TLS, then any HTTPS request will be allowed.\n"
        + "- Add the hostname you want to use to the whitelist in settings.\n"
        + "  - e.g. etcd --host-whitelist \"" + host + "\"\n\n"
        + "This requirement has been added to help prevent \"DNS Rebinding\" attacks (CVE-2018-5702).\n";
  }

  /** etcd's CORS headers, on every response of a site with an access controller. */
  static void cors(FullHttpResponse r, String origin) {
    if (origin != null) {
      corsHeaders(r.headers(), origin);
    }
  }

  static void corsHeaders(io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaders h, String origin) {
    h.add("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
    h.add("Access-Control-Allow-Origin", origin);
    h.add("Access-Control-Allow-Headers", "accept, content-type, authorization");
  }
}
