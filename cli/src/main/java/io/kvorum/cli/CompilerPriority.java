package io.kvorum.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import io.kvorum.server.sched.Niceness;
import org.slf4j.Logger;

/**
 * Lowers the scheduling priority of the JVM's JIT compiler threads by {@code -Dkvorum.compilerNice}
 * nice steps (Linux; {@code renice} on each thread), so that on a machine with few cores the
 * request, raft and apply threads preempt the compiler instead of waiting behind it. A fresh member
 * compiles for tens of seconds (three JVMs on two cores: most of their CPU in the first 20 s); the
 * compiler still takes every idle cycle, and all it loses is the cycles a request needs. Raising a
 * nice value needs no privilege. Off (0) unless set; the launcher sets it.
 */
final class CompilerPriority {
  static final String PROPERTY = "kvorum.compilerNice";

  private CompilerPriority() {}

  static void apply(Logger log) {
    int steps = Integer.getInteger(PROPERTY, 0);
    if (steps <= 0) {
      return;
    }
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      log.warn("-D{}={} ignored: no /proc/self/task on this system", PROPERTY, steps);
      return;
    }
    int found = 0;
    int lowered = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(tasks)) {
      for (Path t : ds) {
        String comm = read(t.resolve("comm"));
        if (comm == null || !(comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre"))) {
          continue;
        }
        found++;
        if (Niceness.lower(t, steps)) {
          lowered++;
        }
      }
    } catch (IOException e) {
      log.warn("cannot lower the JIT compiler threads' priority: {}", e.toString());
      return;
    }
    if (lowered < found || found == 0) {
      log.warn("-D{}={}: lowered {} of {} JIT compiler threads (renice failed or none found)", PROPERTY, steps,
          lowered, found);
    } else {
      log.info("lowered the priority of {} JIT compiler threads by {} nice steps", lowered, steps);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return null;
    }
  }
}
