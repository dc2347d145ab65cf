package io.kvorum.server.api.http;

/** The member's metrics, rendered for one scrape of {@code /metrics}. */
public interface MetricsPage {
  /** The exposition format's content type. */
  String contentType();

  /** The page: every metric as it stands now. */
  byte[] render();
}
