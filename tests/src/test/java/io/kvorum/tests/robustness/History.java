package io.kvorum.tests.robustness;

import io.grpc.StatusRuntimeException;
import io.kvorum.tests.robustness.check.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The operations every client recorded, and a count of the errors met, by gRPC code and message. */
final class History {
  private final List<Operation> operations = new ArrayList<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  synchronized void add(Operation o) {
    operations.add(o);
  }

  void failed(StatusRuntimeException e) {
    // A deadline's text carries its timings and addresses: counted by code alone.
    String d = e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED ? null : e.getStatus().getDescription();
    errors.computeIfAbsent(e.getStatus().getCode() + (d == null ? "" : ": " + d), k -> new LongAdder()).increment();
  }

  synchronized List<Operation> operations() {
    return List.copyOf(operations);
  }

  Map<String, Long> errors() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
