package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.kvorum.server.clock.Clock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The member's health as etcd answers it over HTTP. {@code /health} is etcd 3.4.23's: unhealthy
 * while an alarm is active (but those named by {@code ?exclude=}), while there is no leader, or
 * when a quorum read does not complete within one second ({@code ?serializable=true}, which
 * kubeadm sends, is accepted and changes nothing, as in 3.4). {@code /livez} and {@code /readyz}
 * are etcd 3.5.11's checks (Kvorum's extensions): live while a serializable read succeeds; ready
 * while no CORRUPT alarm is active and both a serializable and a linearizable read succeed, with
 * its {@code [+]check ok} report and {@code ?exclude=}/{@code ?verbose}. {@code /version} is
 * served here too.
 */
public final class HealthChecks {
  /** etcd's bound on the health check's quorum read. */
  static final Duration QUORUM_READ_TIMEOUT = Duration.ofSeconds(1);

  /** What the checks ask of the member. */
  public interface Member {
    /** The leader's id, 0 without one. */
    long leader();

    /** The active alarms' names ({@code NOSPACE}, {@code CORRUPT}), one per member and alarm. */
    List<String> activeAlarms();

    /** Completes once a read here would see every write acknowledged before the call. */
    CompletableFuture<Void> quorumRead();

    /** Completes once this member's backend served a one-key serializable read. */
    CompletableFuture<Void> serializableRead();

    /** etcd's {@code etcd_server_health_success}/{@code _failures} counters. */
    void healthChecked(boolean healthy);
  }

  private final Member member;
  private final Clock clock;
  private final Supplier<String> clusterVersion;
  private final String serverVersion;

  public HealthChecks(Member member, Clock clock, String serverVersion, Supplier<String> clusterVersion) {
    this.member = member;
    this.clock = clock;
    this.serverVersion = serverVersion;
    this.clusterVersion = clusterVersion;
  }

  /** etcd 3.4.23's {@code /health}. */
  CompletableFuture<FullHttpResponse> health(Map<String, List<String>> query) {
    Set<String> excluded = Set.copyOf(query.getOrDefault("exclude", List.of()));
    boolean healthy = member.activeAlarms().stream().allMatch(excluded::contains) && member.leader() != 0;
    CompletableFuture<Boolean> result = healthy
        ? within(member.quorumRead(), QUORUM_READ_TIMEOUT).handle((ok, err) -> err == null)
        : CompletableFuture.completedFuture(false);
    return result.thenApply(ok -> {
      member.healthChecked(ok);
      if (ok) {
        // Go's net/http sniffs this body as plain text.
        return Responses.full(200, Responses.TEXT, "{\"health\":\"true\"}".getBytes(StandardCharsets.UTF_8));
      }
      return Responses.error(503, "{\"health\":\"false\"}");
    });
  }

  /** etcd 3.5.11's {@code /livez}. */
  CompletableFuture<FullHttpResponse> livez(Map<String, List<String>> query) {
    Map<String, Supplier<CompletableFuture<Void>>> checks = new LinkedHashMap<>();
    checks.put("serializable_read", member::serializableRead);
    return report("livez", checks, query);
  }

  /** etcd 3.5.11's {@code /readyz}. */
  CompletableFuture<FullHttpResponse> readyz(Map<String, List<String>> query) {
    Map<String, Supplier<CompletableFuture<Void>>> checks = new LinkedHashMap<>();
    checks.put("data_corruption", () -> member.activeAlarms().contains("CORRUPT")
        ? CompletableFuture.failedFuture(new IllegalStateException("alarm activated: CORRUPT"))
        : CompletableFuture.completedFuture(null));
    checks.put("serializable_read", member::serializableRead);
    checks.put("linearizable_read", () -> within(member.quorumRead(), QUORUM_READ_TIMEOUT));
    return report("readyz", checks, query);
  }

  /** {@code /version}: the member's and the cluster's versions, as etcd's {@code version.Versions}. */
  FullHttpResponse version() {
    String body = "{\"etcdserver\":\"" + serverVersion + "\",\"etcdcluster\":\"" + clusterVersion.get() + "\"}";
    return Responses.full(200, Responses.JSON, body.getBytes(StandardCharsets.UTF_8));
  }

  private CompletableFuture<FullHttpResponse> report(String name,
      Map<String, Supplier<CompletableFuture<Void>>> checks, Map<String, List<String>> query) {
    Set<String> excluded = Set.copyOf(query.getOrDefault("exclude", List.of()));
    boolean verbose = query.containsKey("verbose");
    List<String> names = new ArrayList<>(checks.keySet());
    List<CompletableFuture<String>> lines = new ArrayList<>();
    for (String check : names) {
      if (excluded.contains(check)) {
        lines.add(CompletableFuture.completedFuture("[+]" + check + " excluded: ok\n"));
        continue;
      }
      CompletableFuture<Void> run;
      try {
        run = checks.get(check).get();
      } catch (RuntimeException e) {
        run = CompletableFuture.failedFuture(e);
      }
      lines.add(run.handle((ok, err) -> err == null ? "[+]" + check + " ok\n"
          : "[-]" + check + " failed: " + reason(err) + "\n"));
    }
    return CompletableFuture.allOf(lines.toArray(CompletableFuture[]::new)).thenApply(v -> {
      StringBuilder sb = new StringBuilder();
      boolean failed = false;
      for (CompletableFuture<String> line : lines) {
        String l = line.join();
        failed |= l.startsWith("[-]");
        sb.append(l);
      }
      if (failed) {
        sb.append(name).append(" check failed");
        return Responses.error(503, sb.toString());
      }
      String body = (verbose ? sb.toString() : "") + "ok\n";
      return Responses.full(200, Responses.TEXT, body.getBytes(StandardCharsets.UTF_8));
    });
  }

  private static String reason(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException)) {
      t = t.getCause();
    }
    if (t instanceof TimeoutException) {
      return "context deadline exceeded";
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** {@code f}, failed with a timeout after {@code limit} on the member's clock. */
  private <T> CompletableFuture<T> within(CompletableFuture<T> f, Duration limit) {
    CompletableFuture<T> out = new CompletableFuture<>();
    Clock.Timer t = clock.schedule(limit, () -> out.completeExceptionally(new TimeoutException()));
    f.whenComplete((v, err) -> {
      t.cancel();
      if (err != null) {
        out.completeExceptionally(err);
      } else {
        out.complete(v);
      }
    });
    return out;
  }
}
