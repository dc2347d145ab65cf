package io.kvorum.tests.robustness.check;

/** The outcome of a check. */
public enum Verdict {
  /** The history satisfies the property. */
  OK,
  /** The history cannot satisfy the property; the result says why. */
  VIOLATION,
  /** The check gave up at a named limit before deciding; never to be read as a pass. */
  UNKNOWN;

  /** The worse of two verdicts: a violation outranks an unknown, which outranks OK. */
  Verdict and(Verdict other) {
    return rank(this) >= rank(other) ? this : other;
  }

  // Not the declaration order: a violation found on one key stands, whatever another key's search
  // could not decide.
  private static int rank(Verdict v) {
    return switch (v) {
      case OK -> 0;
      case UNKNOWN -> 1;
      case VIOLATION -> 2;
    };
  }
}
