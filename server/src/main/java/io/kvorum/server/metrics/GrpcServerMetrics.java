package io.kvorum.server.metrics;

import io.kvorum.server.clock.Clock;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The client gRPC server's metrics: go-grpc-prometheus's {@code grpc_server_*} families as etcd
 * registers them (every method of the client services pre-initialised with 0), etcd's client byte
 * counters and its requests per client API version. The API edge, which alone knows gRPC, looks up
 * a {@link Method} once per method and counts through it.
 */
public final class GrpcServerMetrics {
  /** Distinct client API versions counted on their own; later ones are counted as {@code unknown}. */
  static final int CLIENT_VERSIONS_MAX = 64;
  /** Prometheus's default buckets, which go-grpc-prometheus's handling histogram uses. */
  static final double[] HANDLING_BOUNDS = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  private static final String UNKNOWN_VERSION = "unknown";

  private final Counter started;
  private final Counter handled;
  private final Counter received;
  private final Counter sent;
  private final Counter clientRequests;
  /** go-grpc-prometheus's handling-time histogram, only with {@code --metrics extensive}, as in etcd. */
  private final Histogram handlingSeconds;
  private final Clock clock;
  private final LongAdder sentBytes = new LongAdder();
  private final LongAdder receivedBytes = new LongAdder();
  private final ConcurrentHashMap<String, Method> methods = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, CounterDataPoint> unaryVersions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, CounterDataPoint> streamVersions = new ConcurrentHashMap<>();

  // Label names in the order etcd writes them (sorted), which is the order the library writes them in.
  GrpcServerMetrics(Families f, Clock clock, boolean extensive) {
    this.clock = clock;
    handlingSeconds = extensive ? f.histogramWithBounds("grpc_server_handling_seconds",
        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
        HANDLING_BOUNDS, "grpc_method", "grpc_service", "grpc_type") : null;
    started = f.labelledCounter("grpc_server_started_total", "Total number of RPCs started on the server.",
        "grpc_method", "grpc_service", "grpc_type");
    handled = f.labelledCounter("grpc_server_handled_total",
        "Total number of RPCs completed on the server, regardless of success or failure.",
        "grpc_code", "grpc_method", "grpc_service", "grpc_type");
    received = f.labelledCounter("grpc_server_msg_received_total",
        "Total number of RPC stream messages received on the server.", "grpc_method", "grpc_service", "grpc_type");
    sent = f.labelledCounter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.",
        "grpc_method", "grpc_service", "grpc_type");
    clientRequests = f.labelledCounter("etcd_server_client_requests_total",
        "The total number of client requests per client version.", "client_api_version", "type");
    f.counter("etcd_network_client_grpc_sent_bytes_total", "The total number of bytes sent to grpc clients.",
        sentBytes::sum);
    f.counter("etcd_network_client_grpc_received_bytes_total", "The total number of bytes received from grpc clients.",
        receivedBytes::sum);
  }

  /** The method registered as {@code fullName}, or null: the lookup a call makes, allocating nothing. */
  public Method lookup(String fullName) {
    return methods.get(fullName);
  }

  /**
   * The counters of one method, created (with every code's handled count at 0) on first use.
   *
   * @param fullName the method's full name ({@code etcdserverpb.KV/Range}), the lookup key
   * @param type go-grpc-prometheus's type: {@code unary}, {@code client_stream}, {@code server_stream}
   *     or {@code bidi_stream}
   * @param codeNames gRPC's status code names as Go spells them, indexed by code value
   */
  public Method method(String fullName, String service, String method, String type, List<String> codeNames) {
    Method m = methods.get(fullName);
    if (m != null) {
      return m;
    }
    return methods.computeIfAbsent(fullName, k -> new Method(type, service, method, codeNames));
  }

  /** Counts a request of {@code type} ({@code unary} or {@code stream}) from a client of API {@code version}. */
  public void clientRequest(boolean unary, String version) {
    ConcurrentHashMap<String, CounterDataPoint> byVersion = unary ? unaryVersions : streamVersions;
    CounterDataPoint c = byVersion.get(version);
    if (c == null) {
      String v = byVersion.size() < CLIENT_VERSIONS_MAX ? version : UNKNOWN_VERSION;
      c = byVersion.computeIfAbsent(v, k -> clientRequests.labelValues(k, unary ? "unary" : "stream"));
    }
    c.inc();
  }

  /** Counts bytes of messages sent to clients. */
  public void sentBytes(long bytes) {
    sentBytes.add(bytes);
  }

  /** Counts bytes of messages received from clients. */
  public void receivedBytes(long bytes) {
    receivedBytes.add(bytes);
  }

  /** One method's counters. */
  public final class Method {
    private final CounterDataPoint started;
    private final CounterDataPoint received;
    private final CounterDataPoint sent;
    private final CounterDataPoint[] handled;
    private final DistributionDataPoint handling;

    Method(String type, String service, String method, List<String> codeNames) {
      this.handling = handlingSeconds == null ? null : handlingSeconds.labelValues(method, service, type);
      this.started = GrpcServerMetrics.this.started.labelValues(method, service, type);
      this.received = GrpcServerMetrics.this.received.labelValues(method, service, type);
      this.sent = GrpcServerMetrics.this.sent.labelValues(method, service, type);
      this.handled = new CounterDataPoint[codeNames.size()];
      for (int i = 0; i < handled.length; i++) {
        handled[i] = GrpcServerMetrics.this.handled.labelValues(codeNames.get(i), method, service, type);
      }
    }

    /** The call started; returns what {@link #handled(int, long)} takes to time it. */
    public long started() {
      started.inc();
      return handling == null ? 0 : clock.nanos();
    }

    public void received() {
      received.inc();
    }

    public void sent() {
      sent.inc();
    }

    /**
     * The call ended with status code {@code code} (its value, an index into the code names);
     * {@code startedAt} is what {@link #started()} returned.
     */
    public void handled(int code, long startedAt) {
      handled[code].inc();
      if (handling != null) {
        handling.observe((clock.nanos() - startedAt) / 1e9);
      }
    }
  }
}
