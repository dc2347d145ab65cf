package io.kvorum.cli;

import io.kvorum.server.config.ConfigException;
import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * etcd's {@code --config-file}: a YAML file with etcd's keys (those of {@code embed.Config} and the
 * proxy settings, see {@code etcd.conf.yml.sample}), turned into the same flag values the command
 * line gives, so one path ({@link EtcdFlags#toConfig}) validates both. As in etcd, each key's value
 * must have the type etcd's Go field has (a number where etcd has a number, a list for
 * {@code log-outputs} and {@code cipher-suites}; durations are integers of nanoseconds, as Go's
 * JSON decoding of {@code time.Duration} wants them), and a mismatch fails with etcd's message; an
 * empty value ({@code data-dir:}) keeps the default. The TLS settings come from the sections
 * {@code client-transport-security} and {@code peer-transport-security}.
 *
 * <p>etcd ignores keys it does not know; Kvorum warns about each.
 */
final class ConfigFile {
  /** The Go type of a key's field: what the YAML value must be, and how etcd's message names it. */
  private enum Kind {
    STRING("string"),
    BOOL("bool"),
    UINT("uint"),
    UINT32("uint32"),
    UINT64("uint64"),
    INT("int"),
    INT64("int64"),
    DURATION("time.Duration"),
    STRINGS("[]string");

    final String goType;

    Kind(String goType) {
      this.goType = goType;
    }
  }

  /** etcd 3.4's keys and their Go types (embed.Config, then etcdmain's configProxy). */
  private static final Map<String, Kind> KEYS = new LinkedHashMap<>();
  /** The keys of the two TLS sections, and the flags they set (the peer's with "peer-" in front). */
  private static final Map<String, String> TLS_KEYS = Map.of("cert-file", "cert-file", "key-file", "key-file",
      "client-cert-auth", "client-cert-auth", "trusted-ca-file", "trusted-ca-file", "auto-tls", "auto-tls");

  private static void keys(Kind kind, String... names) {
    for (String n : names) {
      KEYS.put(n, kind);
    }
  }

  static {
    keys(Kind.STRING, "name", "data-dir", "wal-dir", "listen-peer-urls", "listen-client-urls",
        "initial-advertise-peer-urls", "advertise-client-urls", "listen-metrics-urls", "cors", "host-whitelist",
        "initial-cluster-state", "discovery-srv", "discovery-srv-name", "discovery-proxy", "discovery",
        "initial-cluster", "initial-cluster-token", "auto-compaction-mode", "auto-compaction-retention",
        "auth-token", "experimental-enable-v2v3", "experimental-backend-bbolt-freelist-type", "metrics", "logger",
        "log-level", "log-package-levels", "proxy", "discovery-fallback");
    keys(Kind.BOOL, "initial-election-tick-advance", "strict-reconfig-check", "enable-v2", "pre-vote",
        "experimental-initial-corrupt-check", "experimental-enable-lease-checkpoint",
        "experimental-enable-lease-checkpoint-persist", "force-new-cluster", "enable-pprof", "enable-grpc-gateway",
        "debug", "unsafe-no-fsync");
    keys(Kind.UINT, "max-snapshots", "max-wals", "heartbeat-interval", "election-timeout", "max-txn-ops",
        "max-request-bytes", "bcrypt-cost", "auth-token-ttl", "proxy-failure-wait", "proxy-refresh-interval",
        "proxy-dial-timeout", "proxy-write-timeout", "proxy-read-timeout");
    keys(Kind.UINT32, "max-concurrent-streams");
    keys(Kind.UINT64, "snapshot-count");
    keys(Kind.INT, "backend-batch-limit", "experimental-compaction-batch-limit");
    keys(Kind.INT64, "quota-backend-bytes");
    keys(Kind.DURATION, "backend-batch-interval", "grpc-keepalive-min-time", "grpc-keepalive-interval",
        "grpc-keepalive-timeout", "experimental-corrupt-check-time", "experimental-watch-progress-notify-interval",
        "experimental-warning-apply-duration");
    keys(Kind.STRINGS, "cipher-suites", "log-outputs", "log-output");
  }

  private ConfigFile() {}

  /**
   * Reads {@code path}: flag name to value, in the form the command line gives it.
   *
   * @param warnings receives one warning per key etcd does not know
   * @throws ConfigException with etcd's message when the file cannot be read or a value has the wrong type
   */
  static Map<String, String> read(Path path, List<String> warnings) {
    Object doc;
    try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
    } catch (NoSuchFileException e) {
      throw new ConfigException("open " + path + ": no such file or directory");
    } catch (IOException e) {
      throw new ConfigException("open " + path + ": " + e.getMessage());
    } catch (YAMLException e) {
      throw new ConfigException("error converting YAML to JSON: " + e.getMessage().replace('\n', ' '));
    }
    Map<String, String> values = new LinkedHashMap<>();
    if (doc == null) {
      return values;
    }
    if (!(doc instanceof Map<?, ?> top)) {
      throw new ConfigException("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
          + jsonType(doc) + " into Go value of type embed.configYAML");
    }
    for (Map.Entry<?, ?> e : top.entrySet()) {
      String key = String.valueOf(e.getKey());
      Object v = e.getValue();
      if (key.equals("client-transport-security") || key.equals("peer-transport-security")) {
        tls(key, v, key.startsWith("peer") ? "peer-" : "", values, warnings);
        continue;
      }
      Kind kind = KEYS.get(key);
      if (kind == null) {
        warnings.add("unknown key \"" + key + "\" in the configuration file " + path + "; ignoring it");
        continue;
      }
      String s = value("configYAML." + key, kind, v);
      if (s != null) {
        values.put(key, s);
      }
    }
    return values;
  }

  private static void tls(String section, Object v, String prefix, Map<String, String> values, List<String> warnings) {
    if (v == null) {
      return;
    }
    if (!(v instanceof Map<?, ?> m)) {
      throw mismatch("configYAML." + section, v, "embed.securityConfig");
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String key = String.valueOf(e.getKey());
      String flag = TLS_KEYS.get(key);
      if (flag == null) {
        warnings.add("unknown key \"" + key + "\" in " + section + " of the configuration file; ignoring it");
        continue;
      }
      Kind kind = key.equals("client-cert-auth") || key.equals("auto-tls") ? Kind.BOOL : Kind.STRING;
      String s = value("securityConfig." + key, kind, e.getValue());
      if (s != null) {
        values.put(prefix + flag, s);
      }
    }
  }

  /** {@code v} as the command line would give it, or null for an empty value (the default stays). */
  private static String value(String field, Kind kind, Object v) {
    if (v == null) {
      return null;
    }
    return switch (kind) {
      case STRING -> {
        if (!(v instanceof String s)) {
          throw mismatch(field, v, kind.goType);
        }
        yield s.isEmpty() ? null : s;
      }
      case BOOL -> {
        if (!(v instanceof Boolean b)) {
          throw mismatch(field, v, kind.goType);
        }
        yield b.toString();
      }
      case UINT, UINT32, UINT64, INT, INT64 -> {
        BigInteger n = integer(v);
        boolean unsigned = kind == Kind.UINT || kind == Kind.UINT32 || kind == Kind.UINT64;
        BigInteger max = switch (kind) {
          case UINT32 -> BigInteger.valueOf(0xFFFF_FFFFL);
          case UINT, UINT64 -> BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
          case INT, INT64 -> BigInteger.valueOf(Long.MAX_VALUE);
          default -> throw new IllegalStateException(kind.name());
        };
        if (n == null || (unsigned && n.signum() < 0) || n.compareTo(max) > 0
            || n.compareTo(BigInteger.valueOf(Long.MIN_VALUE)) < 0) {
          throw mismatch(field, v, kind.goType);
        }
        yield n.toString();
      }
      case DURATION -> {
        BigInteger n = integer(v);
        if (n == null || n.bitLength() > 63) {
          throw mismatch(field, v, kind.goType);
        }
        yield Duration.ofNanos(n.longValueExact()).isZero() ? "0s" : n + "ns";
      }
      case STRINGS -> {
        if (!(v instanceof List<?> list)) {
          throw mismatch(field, v, kind.goType);
        }
        List<String> parts = new ArrayList<>();
        for (Object o : list) {
          if (!(o instanceof String s)) {
            throw mismatch(field, o, "string");
          }
          parts.add(s);
        }
        yield String.join(",", parts);
      }
    };
  }

  private static BigInteger integer(Object v) {
    if (v instanceof Integer || v instanceof Long) {
      return BigInteger.valueOf(((Number) v).longValue());
    }
    if (v instanceof BigInteger b) {
      return b;
    }
    return null;
  }

  /** etcd's (Go's JSON decoder's) words for a value of the wrong type. */
  private static ConfigException mismatch(String field, Object v, String goType) {
    String what = jsonType(v);
    boolean numeric = goType.startsWith("int") || goType.startsWith("uint") || goType.equals("time.Duration");
    if (v instanceof Number && numeric) {
      what += " " + v;
    }
    return new ConfigException("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal " + what
        + " into Go struct field " + field + " of type " + goType);
  }

  private static String jsonType(Object v) {
    if (v instanceof String) {
      return "string";
    }
    if (v instanceof Boolean) {
      return "bool";
    }
    if (v instanceof Number) {
      return "number";
    }
    if (v instanceof List<?>) {
      return "array";
    }
    if (v instanceof Map<?, ?>) {
      return "object";
    }
    // Timestamps and binary, which JSON cannot hold: Go's converter turns them into strings.
    return "string";
  }
}
