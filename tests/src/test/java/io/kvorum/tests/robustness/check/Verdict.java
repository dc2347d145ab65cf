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
    return this.ordinal() >= other.ordinal() ? this : other;
  }
}
