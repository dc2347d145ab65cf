package io.kvorum.server.api.http;

import java.io.IOException;
import java.io.OutputStream;

/** The member's metrics, written for one scrape of {@code /metrics}. */
public interface MetricsPage {
  /** The exposition format's content type. */
  String contentType();

  /** Writes every metric as it stands now. */
  void write(OutputStream out) throws IOException;
}
