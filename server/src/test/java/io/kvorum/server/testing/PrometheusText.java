package io.kvorum.server.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: every family must have
 * its {@code # HELP} and {@code # TYPE} before its samples, every sample must belong to the family
 * declared last (a histogram's {@code _bucket}, {@code _sum} and {@code _count} included), label
 * names and values must be well formed and quoted, and values must be numbers. Anything else fails
 * the parse with the line.
 */
public final class PrometheusText {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME.pattern() + ") (.*)");
  private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME.pattern() + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern SAMPLE = Pattern.compile("(" + NAME.pattern() + ")(\\{(.*)\\})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One sample: its full name (with a histogram's suffix), labels in written order, value. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  /** One family: name, type, help text and samples in written order. */
  public record Family(String name, String type, String help, List<Sample> samples) {
    /** The value of the sample named {@code sampleName} with exactly {@code labels}, or null. */
    public Double value(String sampleName, Map<String, String> labels) {
      for (Sample s : samples) {
        if (s.name().equals(sampleName) && s.labels().equals(labels)) {
          return s.value();
        }
      }
      return null;
    }
  }

  private PrometheusText() {}

  /** Parses {@code text}; throws {@link IllegalArgumentException} naming the first bad line. */
  public static Map<String, Family> parse(String text) {
    Map<String, Family> families = new LinkedHashMap<>();
    String help = null;
    String helpName = null;
    Family current = null;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        if (i != lines.length - 1) {
          throw bad(i, line, "empty line");
        }
        continue;
      }
      Matcher m;
      if ((m = HELP.matcher(line)).matches()) {
        helpName = m.group(1);
        help = m.group(2);
      } else if ((m = TYPE.matcher(line)).matches()) {
        String name = m.group(1);
        if (!name.equals(helpName)) {
          throw bad(i, line, "TYPE without its HELP");
        }
        if (families.containsKey(name)) {
          throw bad(i, line, "family declared twice");
        }
        current = new Family(name, m.group(2), help, new ArrayList<>());
        families.put(name, current);
      } else if (line.startsWith("#")) {
        throw bad(i, line, "unknown comment");
      } else if ((m = SAMPLE.matcher(line)).matches()) {
        if (current == null || !belongs(current, m.group(1))) {
          throw bad(i, line, "sample outside its family");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (m.group(3) != null) {
          for (String pair : splitLabels(m.group(3), i, line)) {
            Matcher l = LABEL.matcher(pair);
            if (!l.matches() || labels.put(l.group(1), l.group(2)) != null) {
              throw bad(i, line, "bad or repeated label " + pair);
            }
          }
        }
        current.samples().add(new Sample(m.group(1), labels, number(m.group(4), i, line)));
      } else {
        throw bad(i, line, "not a sample");
      }
    }
    return families;
  }

  private static boolean belongs(Family f, String sampleName) {
    if (f.type().equals("histogram")) {
      return sampleName.equals(f.name() + "_bucket") || sampleName.equals(f.name() + "_sum")
          || sampleName.equals(f.name() + "_count");
    }
    if (f.type().equals("summary")) {
      return sampleName.equals(f.name()) || sampleName.equals(f.name() + "_sum")
          || sampleName.equals(f.name() + "_count");
    }
    return sampleName.equals(f.name());
  }

  /** Splits {@code a="x",b="y"} at the commas between quoted values (no trailing comma allowed). */
  private static List<String> splitLabels(String s, int i, String line) {
    List<String> out = new ArrayList<>();
    int start = 0;
    boolean quoted = false;
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c == '\\' && quoted) {
        k++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        out.add(s.substring(start, k));
        start = k + 1;
      }
    }
    if (quoted || start >= s.length()) {
      throw bad(i, line, "unterminated label value or trailing comma");
    }
    out.add(s.substring(start));
    return out;
  }

  private static double number(String s, int i, String line) {
    switch (s) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        try {
          return Double.parseDouble(s);
        } catch (NumberFormatException e) {
          throw bad(i, line, "value is not a number");
        }
    }
  }

  private static IllegalArgumentException bad(int i, String line, String why) {
    return new IllegalArgumentException("line " + (i + 1) + ": " + why + ": " + line);
  }
}
