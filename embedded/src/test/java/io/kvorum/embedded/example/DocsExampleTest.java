package io.kvorum.embedded.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The Java example in {@code docs/embedded.md} is {@link OrdersTest}, line for line, so it runs. */
class DocsExampleTest {
  @Test
  void docsExample_isOrdersTest() throws IOException {
    String doc = Files.readString(Path.of("../docs/embedded.md"), StandardCharsets.UTF_8);
    String source = Files.readString(
        Path.of("src/test/java/io/kvorum/embedded/example/OrdersTest.java"), StandardCharsets.UTF_8);
    assertThat(between(doc, "## Example", "```java\n", "```\n"))
        .isEqualTo(between(source, "", "// docs/embedded.md example begins\n", "// docs/embedded.md example ends\n"));
  }

  private static String between(String text, String after, String start, String end) {
    int from = text.indexOf(start, text.indexOf(after)) + start.length();
    assertThat(from).as("start of the block").isGreaterThanOrEqualTo(start.length());
    int to = text.indexOf(end, from);
    assertThat(to).as("end of the block").isGreaterThan(from);
    return text.substring(from, to);
  }
}
