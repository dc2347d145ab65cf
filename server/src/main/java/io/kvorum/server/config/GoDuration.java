package io.kvorum.server.config;

import java.time.Duration;
import java.util.Map;

/**
 * Go's {@code time.ParseDuration}, ported exactly (Go 1.19 {@code time/format.go}): a signed
 * sequence of decimal numbers, each with an optional fraction and a unit (ns, us, µs, μs, ms, s, m,
 * h) — the syntax of etcd's duration flags and of {@code --auth-token}'s {@code ttl}. Go's uint64
 * arithmetic is done on longs, whose wrap-around and unsigned comparisons are the same.
 */
public final class GoDuration {
  private GoDuration() {}

  /** 2^63 as an unsigned 64-bit value. */
  private static final long TWO_63 = Long.MIN_VALUE;

  private static final Map<String, Long> DURATION_UNITS = Map.of(
      "ns", 1L,
      "us", 1_000L,
      "\u00b5s", 1_000L,
      "\u03bcs", 1_000L,
      "ms", 1_000_000L,
      "s", 1_000_000_000L,
      "m", 60_000_000_000L,
      "h", 3_600_000_000_000L);

  /**
   * Parses a Go duration ({@code 300ms}, {@code 1h30m}, {@code 1.5h}, {@code -2s}, {@code 0}).
   *
   * @throws IllegalArgumentException with Go's message when {@code orig} is not one
   */
  public static Duration parse(String orig) {
    String s = orig;
    boolean neg = false;
    if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
      neg = s.charAt(0) == '-';
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    if (s.isEmpty()) {
      throw invalidDuration(orig);
    }
    long d = 0;
    int i = 0;
    int n = s.length();
    while (i < n) {
      long v = 0;
      long f = 0;
      double scale = 1;
      char c = s.charAt(i);
      if (!(c == '.' || isDigit(c))) {
        throw invalidDuration(orig);
      }
      int start = i;
      for (; i < n && isDigit(s.charAt(i)); i++) {
        if (Long.compareUnsigned(v, Long.divideUnsigned(TWO_63, 10)) > 0) {
          throw invalidDuration(orig);
        }
        v = v * 10 + (s.charAt(i) - '0');
        if (Long.compareUnsigned(v, TWO_63) > 0) {
          throw invalidDuration(orig);
        }
      }
      boolean pre = i != start;
      boolean post = false;
      if (i < n && s.charAt(i) == '.') {
        i++;
        int fractionStart = i;
        boolean overflow = false;
        for (; i < n && isDigit(s.charAt(i)); i++) {
          if (overflow) {
            continue;
          }
          if (Long.compareUnsigned(f, Long.MAX_VALUE / 10) > 0) {
            overflow = true;
            continue;
          }
          long y = f * 10 + (s.charAt(i) - '0');
          if (Long.compareUnsigned(y, TWO_63) > 0) {
            overflow = true;
            continue;
          }
          f = y;
          scale *= 10;
        }
        post = i != fractionStart;
      }
      if (!pre && !post) {
        throw invalidDuration(orig);
      }
      int unitStart = i;
      for (; i < n; i++) {
        char u = s.charAt(i);
        if (u == '.' || isDigit(u)) {
          break;
        }
      }
      if (i == unitStart) {
        throw new IllegalArgumentException("time: missing unit in duration " + quote(orig));
      }
      String u = s.substring(unitStart, i);
      Long unit = DURATION_UNITS.get(u);
      if (unit == null) {
        throw new IllegalArgumentException("time: unknown unit " + quote(u) + " in duration " + quote(orig));
      }
      if (Long.compareUnsigned(v, Long.divideUnsigned(TWO_63, unit)) > 0) {
        throw invalidDuration(orig);
      }
      v *= unit;
      if (f != 0) {
        // At most 3.6e12 (a fraction of an hour), so the long conversion is exact as Go's uint64 one.
        v += (long) (unsignedToDouble(f) * ((double) unit / scale));
        if (Long.compareUnsigned(v, TWO_63) > 0) {
          throw invalidDuration(orig);
        }
      }
      d += v;
      if (Long.compareUnsigned(d, TWO_63) > 0) {
        throw invalidDuration(orig);
      }
    }
    if (neg) {
      return Duration.ofNanos(-d);
    }
    if (d == TWO_63) {
      throw invalidDuration(orig);
    }
    return Duration.ofNanos(d);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static double unsignedToDouble(long x) {
    return x >= 0 ? (double) x : (double) (x >>> 1) * 2.0 + (x & 1);
  }

  private static IllegalArgumentException invalidDuration(String orig) {
    return new IllegalArgumentException("time: invalid duration " + quote(orig));
  }

  private static String quote(String s) {
    return '"' + s + '"';
  }
}
