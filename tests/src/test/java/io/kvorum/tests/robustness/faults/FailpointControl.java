package io.kvorum.tests.robustness.faults;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A member's failpoint control endpoint ({@code KVORUM_FAILPOINTS_HTTP}), as gofail's: set a
 * failpoint's term, clear it, list them. The peer-transport points are how a test delays, loses
 * or reorders peer messages: {@code peerSendDelay=sleep(ms)}, {@code peerSendDrop=10%return},
 * {@code peerSendReorder=return}.
 */
public final class FailpointControl {
  /** How long one call may take. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private final URI base;
  private final HttpClient http;

  /** @param hostPort where the member serves the endpoint, as given in {@code KVORUM_FAILPOINTS_HTTP} */
  public FailpointControl(String hostPort) {
    this.base = URI.create("http://" + hostPort + "/");
    this.http = HttpClient.newBuilder().connectTimeout(CALL_TIMEOUT).build();
  }

  /** Sets {@code name} to {@code term}. */
  public void set(String name, String term) throws IOException {
    call(HttpRequest.newBuilder(base.resolve(name)).PUT(HttpRequest.BodyPublishers.ofString(term)));
  }

  /** Clears {@code name}. */
  public void clear(String name) throws IOException {
    call(HttpRequest.newBuilder(base.resolve(name)).DELETE());
  }

  /** The failpoints set, one {@code name=term} a line. */
  public String list() throws IOException {
    return call(HttpRequest.newBuilder(base).GET());
  }

  private String call(HttpRequest.Builder b) throws IOException {
    try {
      HttpResponse<String> r = http.send(b.timeout(CALL_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new IOException(r.request().method() + " " + r.uri() + ": " + r.statusCode() + " " + r.body().strip());
      }
      return r.body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
