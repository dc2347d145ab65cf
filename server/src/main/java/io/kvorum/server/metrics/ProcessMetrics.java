package io.kvorum.server.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The process metrics: the client library's {@code process_*} (the same names and help texts as
 * Go's process collector) and {@code jvm_*} in place of Go's {@code go_*}; plus what etcd adds on
 * Linux — Go's {@code process_virtual_memory_max_bytes} and etcd's {@code os_fd_used} and
 * {@code os_fd_limit} — read from {@code /proc} at scrape time (etcd samples the latter every ten
 * minutes). Elsewhere those three are left out.
 */
final class ProcessMetrics {
  private static final Path PROC_SELF = Path.of("/proc/self");
  /** What Go reports for an unlimited address space (RLIM_INFINITY as an unsigned 64-bit number). */
  private static final double UNLIMITED = 18446744073709551615.0;

  private ProcessMetrics() {}

  static void register(PrometheusRegistry registry) {
    JvmMetrics.builder().register(registry);
    GaugeWithCallback.builder().name("process_virtual_memory_max_bytes")
        .help("Maximum amount of virtual memory available in bytes.")
        .callback(cb -> {
          Double v = limit("Max address space");
          if (v != null) {
            cb.call(v);
          }
        }).register(registry);
    GaugeWithCallback.builder().name("os_fd_used").help("The number of used file descriptors.").callback(cb -> {
      try (Stream<Path> fds = Files.list(PROC_SELF.resolve("fd"))) {
        cb.call(fds.count());
      } catch (IOException | RuntimeException e) {
        // Not Linux, or /proc unreadable: left out.
      }
    }).register(registry);
    GaugeWithCallback.builder().name("os_fd_limit").help("The file descriptor limit.").callback(cb -> {
      Double v = limit("Max open files");
      if (v != null) {
        cb.call(v);
      }
    }).register(registry);
  }

  /** The soft limit named {@code name} in {@code /proc/self/limits}, or null if unreadable. */
  static Double limit(String name) {
    List<String> lines;
    try {
      lines = Files.readAllLines(PROC_SELF.resolve("limits"));
    } catch (IOException | RuntimeException e) {
      return null;
    }
    for (String line : lines) {
      if (line.startsWith(name)) {
        String[] cols = line.substring(name.length()).trim().split("\\s+");
        if (cols.length == 0) {
          return null;
        }
        if (cols[0].equals("unlimited")) {
          return UNLIMITED;
        }
        try {
          return Double.parseDouble(cols[0]);
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
    return null;
  }
}
