package io.kvorum.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.kvorum.server.config.ConfigException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's logging flags, with etcd's rules, applied to logback.
 *
 * <p>{@code --logger}: {@code zap} and {@code capnslog} both write zap's JSON lines
 * ({@link JsonLogLayout}); capnslog keeps etcd's limits on outputs (one of {@code default},
 * {@code stderr}, {@code stdout}) and its {@code --debug}, and an explicit {@code capnslog} gets a
 * warning. {@code --log-level}: debug, info, warn, error, and zap's dpanic, panic and fatal, which
 * show error lines (Kvorum logs its fatal conditions at error level). {@code --log-outputs}:
 * {@code default} and {@code stderr} are stderr, {@code stdout} is stdout, anything else a file
 * appended to (created if missing); {@code systemd/journal} is refused (stderr reaches the journal
 * under systemd).
 */
final class Logging {
  static final Set<String> LEVELS = Set.of("debug", "info", "warn", "error", "dpanic", "panic", "fatal");
  static final String DEFAULT_OUTPUT = "default";
  static final String JOURNAL_OUTPUT = "systemd/journal";

  /** The effective settings: the level and the outputs. */
  record Settings(String level, List<String> outputs) {}

  private Logging() {}

  /**
   * Resolves the flags as etcd's {@code setupLogging} does.
   *
   * @param logger {@code --logger}
   * @param level {@code --log-level}
   * @param debug {@code --debug}
   * @param outputs {@code --log-outputs}, or null when not given
   * @param deprecatedOutputs {@code --log-output}, or null when not given
   * @param warnings receives etcd's deprecation warnings
   * @throws ConfigException with etcd's message
   */
  static Settings resolve(String logger, String level, boolean debug, List<String> outputs,
      List<String> deprecatedOutputs, List<String> warnings) {
    List<String> out = outputs != null ? outputs : List.of(DEFAULT_OUTPUT);
    if (deprecatedOutputs != null) {
      if (outputs != null && deprecatedOutputs.equals(outputs) && !outputs.equals(List.of(DEFAULT_OUTPUT))) {
        throw new ConfigException("'--log-output=" + goList(deprecatedOutputs) + "' and '--log-outputs="
            + goList(outputs) + "' are incompatible; only set --log-outputs");
      }
      warnings.add("'--log-output' flag has been deprecated! Please use '--log-outputs'!");
      if (outputs == null) {
        out = deprecatedOutputs;
      }
    }
    if (!LEVELS.contains(level)) {
      throw new ConfigException("unknown level \"" + level + "\"");
    }
    if (debug) {
      warnings.add("Deprecated '--debug' flag is set to true (use '--log-level=debug' instead)");
      if (!level.equals("debug")) {
        warnings.add("Deprecated '--debug' flag is set to true with inconsistent '--log-level=" + level + "' flag");
      }
    }
    switch (logger) {
      case "capnslog" -> {
        if (out.size() != 1) {
          throw new ConfigException("--logger=capnslog supports only 1 value in '--log-outputs', got " + goList(out));
        }
        String o = out.get(0);
        if (!Set.of(DEFAULT_OUTPUT, "stderr", "stdout").contains(o)) {
          throw new ConfigException("unknown log-output \"" + o + "\" (only supports \"default\", \"stderr\", "
              + "\"stdout\")");
        }
        return new Settings(debug ? "debug" : level, out);
      }
      case "zap" -> {
        if (out.isEmpty()) {
          out = List.of(DEFAULT_OUTPUT);
        }
        if (out.size() > 1 && out.contains(DEFAULT_OUTPUT)) {
          throw new ConfigException("multi logoutput for \"default\" is not supported yet");
        }
        return new Settings(level, out);
      }
      default -> throw new ConfigException("unknown logger option \"" + logger + "\"");
    }
  }

  /**
   * Replaces logback's configuration (cli's {@code logback.xml}) with {@code level} and one JSON
   * appender per output. Files are opened first, so one that cannot be written stops the member
   * with the reason, as zap's sink does.
   *
   * @throws ConfigException when an output cannot be used
   */
  static void apply(String level, List<String> outputs) {
    for (String o : outputs) {
      if (o.equals(JOURNAL_OUTPUT)) {
        throw new ConfigException("--log-outputs=" + JOURNAL_OUTPUT + " is not supported by Kvorum: write to "
            + "stderr (the default), which systemd's journal captures");
      }
      if (!Set.of(DEFAULT_OUTPUT, "stderr", "stdout").contains(o)) {
        Path p = Path.of(o);
        try (OutputStream s = Files.newOutputStream(p, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
          s.flush();
        } catch (IOException | RuntimeException e) {
          throw new ConfigException("couldn't open sink \"" + o + "\": open " + o + ": " + e.getMessage());
        }
      }
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.reset();
    LevelChangePropagator jul = new LevelChangePropagator();
    jul.setContext(ctx);
    jul.setResetJUL(true);
    jul.start();
    ctx.addListener(jul);
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(level(level));
    // gRPC's and netty's own chatter, as logback.xml has it, unless debugging.
    if (!level.equals("debug")) {
      ctx.getLogger("io.grpc").setLevel(Level.WARN);
      ctx.getLogger("io.grpc.netty").setLevel(Level.ERROR);
    }
    int n = 0;
    for (String o : outputs) {
      OutputStreamAppender<ILoggingEvent> a;
      if (o.equals(DEFAULT_OUTPUT) || o.equals("stderr") || o.equals("stdout")) {
        ConsoleAppender<ILoggingEvent> c = new ConsoleAppender<>();
        c.setTarget(o.equals("stdout") ? "System.out" : "System.err");
        a = c;
      } else {
        FileAppender<ILoggingEvent> f = new FileAppender<>();
        f.setFile(o);
        f.setAppend(true);
        a = f;
      }
      JsonLogLayout layout = new JsonLogLayout();
      layout.setContext(ctx);
      layout.start();
      LayoutWrappingEncoder<ILoggingEvent> enc = new LayoutWrappingEncoder<>();
      enc.setContext(ctx);
      enc.setLayout(layout);
      enc.start();
      a.setContext(ctx);
      a.setName("output-" + n++);
      a.setEncoder(enc);
      a.start();
      if (!a.isStarted()) {
        throw new ConfigException("couldn't open sink \"" + o + "\"");
      }
      root.addAppender(a);
    }
  }

  /** zap's level as logback's: zap's levels above error show error lines. */
  static Level level(String zapLevel) {
    return switch (zapLevel.toLowerCase(Locale.ROOT)) {
      case "debug" -> Level.DEBUG;
      case "info" -> Level.INFO;
      case "warn" -> Level.WARN;
      case "error", "dpanic", "panic", "fatal" -> Level.ERROR;
      default -> throw new ConfigException("unknown level \"" + zapLevel + "\"");
    };
  }

  /** Go's {@code %q} of a string slice: {@code ["a" "b"]}. */
  static String goList(List<String> values) {
    List<String> quoted = new ArrayList<>();
    values.forEach(v -> quoted.add("\"" + v + "\""));
    return "[" + String.join(" ", quoted) + "]";
  }
}
