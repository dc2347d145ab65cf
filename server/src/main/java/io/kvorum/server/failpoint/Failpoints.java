package io.kvorum.server.failpoint;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failpoints of this process, set as gofail sets etcd's: {@code KVORUM_FAILPOINTS}
 * (or the system property {@code kvorum.failpoints}) holds {@code name=term;name=term}, read once
 * at start; {@code KVORUM_FAILPOINTS_HTTP=host:port} serves gofail's control endpoint, where
 * {@code PUT /name} with a term as body sets one, {@code DELETE /name} clears it and
 * {@code GET /} lists them. {@code KVORUM_FAILPOINTS_SEED} (a long, default 0) seeds the draws of
 * chance terms ({@code 10%return}): each term draws from that seed mixed with its failpoint's
 * name, restarted whenever the term is set.
 *
 * <p>Off unless one of those is set: {@link #ENABLED} is a constant, so in production every
 * {@link #hit} and {@link #on} is a test of a {@code static final false} that the JIT removes. An
 * unknown name or a malformed term refuses the start, never goes ignored.
 */
public final class Failpoints {
  public static final String ENV = "KVORUM_FAILPOINTS";
  public static final String PROPERTY = "kvorum.failpoints";
  public static final String HTTP_ENV = "KVORUM_FAILPOINTS_HTTP";
  public static final String SEED_ENV = "KVORUM_FAILPOINTS_SEED";
  /** The exit status of a {@code panic}, Go's for a panic as gofail's would give. */
  public static final int PANIC_EXIT_STATUS = 2;
  /** A term sent to the control endpoint, in bytes. */
  static final int HTTP_BODY_BYTES_MAX = 4096;

  private static final Logger log = LoggerFactory.getLogger(Failpoints.class);
  private static final String SETTING = System.getProperty(PROPERTY, System.getenv(ENV));
  private static final String HTTP = System.getenv(HTTP_ENV);
  private static final String SEED = System.getenv(SEED_ENV);
  /** Whether this process has failpoints at all. */
  public static final boolean ENABLED = SETTING != null || HTTP != null;

  private static final AtomicReferenceArray<Term> TERMS = new AtomicReferenceArray<>(Failpoint.values().length);
  private static final java.util.BitSet SET_AT_START = new java.util.BitSet();
  private static HttpServer http;

  private Failpoints() {}

  /**
   * Reads the setting and starts the control endpoint; a member calls it before anything else.
   *
   * @throws IllegalArgumentException naming the bad name or term
   */
  public static synchronized void start() throws IOException {
    if (!ENABLED || http != null) {
      return;
    }
    seed();
    if (SETTING != null) {
      for (String one : SETTING.split(";")) {
        if (one.isBlank()) {
          continue;
        }
        int eq = one.indexOf('=');
        if (eq < 0) {
          throw new IllegalArgumentException(ENV + ": " + one + " is not name=term");
        }
        String name = one.substring(0, eq).strip();
        set(name, one.substring(eq + 1));
        Failpoint f = Failpoint.named(name).orElseThrow();
        SET_AT_START.set(f.ordinal(), !"off".equals(TERMS.get(f.ordinal()).text));
      }
    }
    if (HTTP != null) {
      int colon = HTTP.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(HTTP_ENV + ": " + HTTP + " is not host:port");
      }
      http = HttpServer.create(new InetSocketAddress(HTTP.substring(0, colon),
          Integer.parseInt(HTTP.substring(colon + 1))), 0);
      http.createContext("/", Failpoints::serve);
      http.start();
    }
    log.warn("failpoints are on: {}; control endpoint: {}; seed: {}", list().strip().replace('\n', ';'),
        HTTP == null ? "none" : HTTP, seed());
  }

  /**
   * Sets one failpoint's term ({@code off} clears it).
   *
   * @throws IllegalArgumentException for an unknown name or a malformed term
   */
  public static void set(String name, String term) {
    Failpoint f = Failpoint.named(name).orElseThrow(() -> new IllegalArgumentException(
        "failpoint " + name + " does not exist"));
    TERMS.set(f.ordinal(), Term.parse(term, seed() ^ f.key.hashCode()));
  }

  /**
   * The seed of chance terms.
   *
   * @throws IllegalArgumentException when {@code KVORUM_FAILPOINTS_SEED} is not a long
   */
  private static long seed() {
    if (SEED == null) {
      return 0;
    }
    try {
      return Long.parseLong(SEED.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SEED_ENV + ": " + SEED + " is not a number");
    }
  }

  /** Does what {@code f}'s term says for this hit: nothing, sleep, or stop the process. */
  public static void hit(Failpoint f) {
    if (ENABLED) {
      act(f);
    }
  }

  /**
   * Like {@link #hit(Failpoint)}, but a {@code panic} first runs {@code beforeHalt} (what a power
   * cut loses is dropped there), on this thread, then halts.
   */
  public static void hit(Failpoint f, Runnable beforeHalt) {
    if (ENABLED) {
      Term t = TERMS.get(f.ordinal());
      if (t != null) {
        act(f, t.next(), beforeHalt);
      }
    }
  }

  /**
   * Whether {@code f} was given a term other than {@code off} when the process started (read once:
   * for what must be decided before the point is first hit, as how the backend is opened).
   */
  public static boolean setAtStart(Failpoint f) {
    return ENABLED && SET_AT_START.get(f.ordinal());
  }

  /** Whether switch {@code f} is on for this hit (its term's step is {@code return}). */
  public static boolean on(Failpoint f) {
    return ENABLED && act(f) == Term.Action.RETURN;
  }

  private static Term.Action act(Failpoint f) {
    Term t = TERMS.get(f.ordinal());
    if (t == null) {
      return Term.Action.OFF;
    }
    return act(f, t.next(), null);
  }

  private static Term.Action act(Failpoint f, Term.Step s, Runnable beforeHalt) {
    switch (s.action()) {
      case PANIC -> {
        if (beforeHalt != null) {
          beforeHalt.run();
        }
        // Straight to stderr: a logging appender may not get to write before the halt.
        System.err.println("failpoint " + f.key + ": panic");
        System.err.flush();
        Runtime.getRuntime().halt(PANIC_EXIT_STATUS);
      }
      case SLEEP -> {
        // The fault is the wait itself (a slow disk), so it takes real time, not the clock's.
        try {
          Thread.sleep(s.arg());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      case OFF, RETURN -> {
        // Nothing to do here; on() reports RETURN.
      }
    }
    return s.action();
  }

  private static String list() {
    StringBuilder b = new StringBuilder();
    for (Failpoint f : Failpoint.values()) {
      Term t = TERMS.get(f.ordinal());
      if (t != null) {
        b.append(f.key).append('=').append(t.text).append('\n');
      }
    }
    return b.toString();
  }

  private static void serve(HttpExchange ex) throws IOException {
    try (ex) {
      String name = ex.getRequestURI().getPath().substring(1);
      int status = 204;
      String body = "";
      try {
        switch (ex.getRequestMethod()) {
          case "GET" -> {
            status = 200;
            body = list();
          }
          case "PUT" -> set(name, read(ex.getRequestBody()));
          case "DELETE" -> set(name, "off");
          default -> {
            status = 405;
            body = "GET, PUT or DELETE\n";
          }
        }
      } catch (IllegalArgumentException e) {
        status = 400;
        body = e.getMessage() + "\n";
      }
      byte[] out = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream o = ex.getResponseBody()) {
          o.write(out);
        }
      }
    }
  }

  private static String read(InputStream in) throws IOException {
    byte[] b = in.readNBytes(HTTP_BODY_BYTES_MAX + 1);
    if (b.length > HTTP_BODY_BYTES_MAX) {
      throw new IllegalArgumentException("term longer than " + HTTP_BODY_BYTES_MAX + " bytes");
    }
    return new String(b, StandardCharsets.UTF_8);
  }
}
