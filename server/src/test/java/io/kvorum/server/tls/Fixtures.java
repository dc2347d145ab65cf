package io.kvorum.server.tls;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

/** etcd's test certificates, copied to {@code src/test/resources/tls} (see the README there). */
public final class Fixtures {
  private Fixtures() {}

  /** The path of fixture {@code name}, e.g. {@code server.crt}. */
  public static Path path(String name) {
    try {
      return Path.of(Objects.requireNonNull(Fixtures.class.getResource("/tls/" + name), name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
