package io.kvorum.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.testing.PrometheusText;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --metrics extensive}: go-grpc-prometheus's handling-time histogram, timed on the member's clock. */
class GrpcHandlingHistogramTest {
  private static final List<String> CODES = List.of("OK", "Canceled");

  private static Map<String, PrometheusText.Family> scrape(Metrics m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.scrape(out);
    return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void extensive_timesEachCallIntoEtcdsBuckets() throws Exception {
    FakeClock clock = new FakeClock();
    Metrics m = new Metrics(clock, "3.4.23", "3.4", true);
    GrpcServerMetrics.Method range = m.grpc().method("etcdserverpb.KV/Range", "etcdserverpb.KV", "Range", "unary",
        CODES);
    long at = range.started();
    clock.advance(Duration.ofMillis(30));
    range.handled(0, at);

    PrometheusText.Family f = scrape(m).get("grpc_server_handling_seconds");
    assertThat(f).isNotNull();
    assertThat(f.type()).isEqualTo("histogram");
    // 30 ms falls in the 0.05 bucket, not in 0.025.
    assertThat(f.samples()).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("grpc_server_handling_seconds_bucket");
      assertThat(s.labels()).containsEntry("le", "0.025").containsEntry("grpc_method", "Range")
          .containsEntry("grpc_service", "etcdserverpb.KV").containsEntry("grpc_type", "unary");
      assertThat(s.value()).isEqualTo(0);
    });
    assertThat(f.samples()).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("grpc_server_handling_seconds_bucket");
      assertThat(s.labels()).containsEntry("le", "0.05");
      assertThat(s.value()).isEqualTo(1);
    });
  }

  @Test
  void basic_hasNoHandlingHistogram() throws Exception {
    Metrics m = new Metrics(new FakeClock(), "3.4.23", "3.4", false);
    GrpcServerMetrics.Method range = m.grpc().method("etcdserverpb.KV/Range", "etcdserverpb.KV", "Range", "unary",
        CODES);
    range.handled(0, range.started());
    assertThat(scrape(m)).doesNotContainKey("grpc_server_handling_seconds")
        .containsKey("grpc_server_handled_total");
  }
}
