package io.kvorum.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Formats a log event as one JSON object per line with etcd's (zap's) field names and level
 * names: {@code {"level":"info","ts":"…","logger":"…","msg":"…"}}.
 */
public final class JsonLogLayout extends LayoutBase<ILoggingEvent> {
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")
      .withZone(ZoneOffset.UTC);

  @Override
  public String doLayout(ILoggingEvent e) {
    StringBuilder sb = new StringBuilder(256);
    sb.append("{\"level\":\"").append(levelName(e.getLevel())).append("\",\"ts\":\"")
        .append(TS.format(Instant.ofEpochMilli(e.getTimeStamp()))).append("\",\"logger\":");
    quote(sb, e.getLoggerName());
    sb.append(",\"msg\":");
    quote(sb, e.getFormattedMessage());
    IThrowableProxy tp = e.getThrowableProxy();
    if (tp != null) {
      sb.append(",\"error\":");
      quote(sb, tp.getClassName() + ": " + tp.getMessage());
      sb.append(",\"stacktrace\":");
      quote(sb, ThrowableProxyUtil.asString(tp));
    }
    sb.append("}\n");
    return sb.toString();
  }

  static String levelName(Level l) {
    if (l.isGreaterOrEqual(Level.ERROR)) {
      return "error";
    }
    if (l.isGreaterOrEqual(Level.WARN)) {
      return "warn";
    }
    if (l.isGreaterOrEqual(Level.INFO)) {
      return "info";
    }
    return "debug";
  }

  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    if (s != null) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          default -> {
            if (c < 0x20) {
              sb.append(String.format("\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
    }
    sb.append('"');
  }
}
