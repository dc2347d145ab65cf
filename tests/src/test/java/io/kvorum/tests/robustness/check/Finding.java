package io.kvorum.tests.robustness.check;

import java.util.List;

/** One violated rule, with the operations that show it. */
public record Finding(String description, List<Operation> operations) {
  public Finding {
    operations = List.copyOf(operations);
  }
}
