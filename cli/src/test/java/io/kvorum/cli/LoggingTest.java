package io.kvorum.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** --logger, --log-level, --log-outputs (and the deprecated --log-output, --debug) with etcd's rules. */
class LoggingTest {
  @TempDir Path dir;
  final List<String> warnings = new ArrayList<>();

  @AfterEach
  void restoreStderrLogging() {
    Logging.apply("info", List.of("stderr"));
  }

  @Test
  void resolve_unknownLevel_failsWithEtcdsMessage() {
    assertThatThrownBy(() -> Logging.resolve("zap", "loud", false, null, null, warnings))
        .isInstanceOf(ConfigException.class).hasMessage("unknown level \"loud\"");
  }

  @Test
  void resolve_unknownLogger_fails() {
    assertThatThrownBy(() -> Logging.resolve("logrus", "info", false, null, null, warnings))
        .hasMessage("unknown logger option \"logrus\"");
  }

  @Test
  void resolve_capnslogWithAFile_failsAsEtcdDoes() {
    assertThatThrownBy(() -> Logging.resolve("capnslog", "info", false, List.of("/var/log/k.log"), null, warnings))
        .hasMessage("unknown log-output \"/var/log/k.log\" (only supports \"default\", \"stderr\", \"stdout\")");
    assertThatThrownBy(() -> Logging.resolve("capnslog", "info", false, List.of("stderr", "stdout"), null, warnings))
        .hasMessage("--logger=capnslog supports only 1 value in '--log-outputs', got [\"stderr\" \"stdout\"]");
  }

  @Test
  void resolve_zapWithDefaultAmongOthers_fails() {
    assertThatThrownBy(() -> Logging.resolve("zap", "info", false, List.of("default", "stdout"), null, warnings))
        .hasMessage("multi logoutput for \"default\" is not supported yet");
    assertThat(Logging.resolve("zap", "info", false, List.of("stderr", "/tmp/k.log"), null, warnings).outputs())
        .containsExactly("stderr", "/tmp/k.log");
  }

  @Test
  void resolve_debug_isDebugLevelUnderCapnslogOnly() {
    assertThat(Logging.resolve("capnslog", "info", true, null, null, warnings).level()).isEqualTo("debug");
    assertThat(Logging.resolve("zap", "info", true, null, null, warnings).level()).isEqualTo("info");
    assertThat(warnings).contains("Deprecated '--debug' flag is set to true (use '--log-level=debug' instead)",
        "Deprecated '--debug' flag is set to true with inconsistent '--log-level=info' flag");
  }

  @Test
  void resolve_deprecatedLogOutput_isUsedWithAWarning() {
    assertThat(Logging.resolve("capnslog", "info", false, null, List.of("stdout"), warnings).outputs())
        .containsExactly("stdout");
    assertThat(warnings).containsExactly("'--log-output' flag has been deprecated! Please use '--log-outputs'!");
    assertThatThrownBy(() -> Logging.resolve("zap", "info", false, List.of("stdout"), List.of("stdout"), warnings))
        .hasMessage("'--log-output=[\"stdout\"]' and '--log-outputs=[\"stdout\"]' are incompatible; only set "
            + "--log-outputs");
  }

  @Test
  void apply_fileOutput_writesJsonLinesAtTheLevel() throws IOException {
    Path log = dir.resolve("member.log");
    Logging.apply("warn", List.of(log.toString()));
    LoggerFactory.getLogger("etcdmain").info("not at warn");
    LoggerFactory.getLogger("etcdmain").warn("at warn");
    Logging.apply("debug", List.of(log.toString()));
    LoggerFactory.getLogger("etcdmain").debug("at debug");

    List<String> lines = Files.readAllLines(log);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("{\"level\":\"warn\",").contains("\"msg\":\"at warn\"");
    assertThat(lines.get(1)).startsWith("{\"level\":\"debug\",").contains("\"msg\":\"at debug\"");
  }

  @Test
  void apply_unwritableFileOrJournal_isRefused() {
    assertThatThrownBy(() -> Logging.apply("info", List.of(dir.resolve("no/such/dir/k.log").toString())))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("couldn't open sink");
    assertThatThrownBy(() -> Logging.apply("info", List.of("systemd/journal")))
        .hasMessageStartingWith("--log-outputs=systemd/journal is not supported by Kvorum");
  }
}
