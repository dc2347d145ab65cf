package io.kvorum.tests.differential;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs one scenario on both sides of a {@link Pair} and fails, printing both sides' messages in
 * two columns, at the first exchange that differs.
 */
final class Comparison {
  /** Width of one column of the side-by-side report. */
  static final int COLUMN_CHARS = 78;
  /** Exchanges shown before the first difference. */
  static final int CONTEXT_EXCHANGES = 3;

  /** Every error status Kvorum sent during the run, rendered, with the scenario that saw it. */
  static final Set<String> KVORUM_ERRORS = ConcurrentHashMap.newKeySet();
  /** Every error description etcd sent during the run. */
  static final Set<String> ETCD_ERRORS = ConcurrentHashMap.newKeySet();

  /** The README, whose list of deliberate differences the deliberate scenarios check. */
  static final Path README = Path.of(System.getProperty("kvorum.readme", "../README.md"));

  private Comparison() {}

  static void run(Scenario s) throws Exception {
    Pair pair = Pair.of(s.topology());
    pair.align();
    if (s.documented() != null) {
      String readme = Files.readString(README, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
      if (!readme.contains(s.documented())) {
        throw new AssertionError(s.name() + ": README.md does not document the difference: " + s.documented());
      }
      Recorder kvorum = new Recorder(pair.kvorum, s.prefix());
      s.body().run(kvorum);
      render(kvorum);
      return;
    }
    Recorder etcd = new Recorder(pair.etcd, s.prefix());
    play(s, etcd);
    Recorder kvorum = new Recorder(pair.kvorum, s.prefix());
    play(s, kvorum);
    List<String> e = render(etcd);
    List<String> k = render(kvorum);
    dump(s, e);
    assertSame(s.name(), e, k);
  }

  /** With {@code -Ddifferential.dump=DIR}, each scenario's etcd transcript is written there, to read. */
  private static void dump(Scenario s, List<String> transcript) throws java.io.IOException {
    String dir = System.getProperty("differential.dump", "");
    if (!dir.isEmpty()) {
      Files.createDirectories(Path.of(dir));
      Files.writeString(Path.of(dir, s.prefix().replace("/", "") + ".txt"), String.join("", transcript));
    }
  }

  static void play(Scenario s, Recorder c) {
    try {
      s.body().run(c);
    } catch (Exception | AssertionError e) {
      c.note("scenario stopped: " + e);
    }
  }

  static List<String> render(Recorder c) {
    Normalizer n = new Normalizer(c.side);
    List<String> out = new ArrayList<>();
    for (Exchange x : c.log) {
      out.add(x.render(n));
      if (x.kind() == Exchange.Kind.ERROR || (x.kind() == Exchange.Kind.END && !x.status().isOk())) {
        String d = n.error(String.valueOf(x.status().getDescription()));
        if (c.isKvorum()) {
          KVORUM_ERRORS.add(x.status().getCode() + ": " + d + "   (" + x.method() + ")");
        } else {
          ETCD_ERRORS.add(d);
        }
      }
    }
    return out;
  }

  static void assertSame(String scenario, List<String> etcd, List<String> kvorum) {
    int n = Math.max(etcd.size(), kvorum.size());
    for (int i = 0; i < n; i++) {
      String e = i < etcd.size() ? etcd.get(i) : "(nothing)\n";
      String k = i < kvorum.size() ? kvorum.get(i) : "(nothing)\n";
      if (!e.equals(k)) {
        StringBuilder sb = new StringBuilder();
        sb.append(scenario).append(": exchange ").append(i + 1).append(" differs (etcd ").append(etcd.size())
            .append(" exchanges, Kvorum ").append(kvorum.size()).append(")\n");
        for (int j = Math.max(0, i - CONTEXT_EXCHANGES); j < i; j++) {
          sb.append("  (same) ").append(etcd.get(j).replace("\n", "\n         ").stripTrailing()).append('\n');
        }
        sb.append(sideBySide(e, k));
        throw new AssertionError(sb.toString());
      }
    }
  }

  static String sideBySide(String etcd, String kvorum) {
    String[] l = etcd.split("\n", -1);
    String[] r = kvorum.split("\n", -1);
    StringBuilder sb = new StringBuilder();
    sb.append(pad("etcd 3.4.23")).append(" | Kvorum\n").append("-".repeat(COLUMN_CHARS)).append("-+-")
        .append("-".repeat(COLUMN_CHARS)).append('\n');
    StringBuilder full = new StringBuilder();
    for (int i = 0; i < Math.max(l.length, r.length); i++) {
      String a = i < l.length ? l[i] : "";
      String b = i < r.length ? r[i] : "";
      sb.append(pad(a)).append(a.equals(b) ? " | " : " # ").append(b).append('\n');
      if (!a.equals(b) && (a.length() > COLUMN_CHARS || b.length() > COLUMN_CHARS)) {
        full.append("  etcd:   ").append(a).append("\n  Kvorum: ").append(b).append('\n');
      }
    }
    if (full.length() > 0) {
      sb.append("differing lines in full:\n").append(full);
    }
    return sb.toString();
  }

  private static String pad(String s) {
    if (s.length() > COLUMN_CHARS) {
      return s.substring(0, COLUMN_CHARS - 1) + "~";
    }
    return s + " ".repeat(COLUMN_CHARS - s.length());
  }
}
