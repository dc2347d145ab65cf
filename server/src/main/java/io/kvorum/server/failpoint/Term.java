package io.kvorum.server.failpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * What a failpoint does when it is hit, in gofail's term language: steps joined by {@code ->},
 * each {@code [n*]action[(arg)]}, where the action is {@code off}, {@code return},
 * {@code sleep(ms)} or {@code panic}. A step with a count does its action that many times, then
 * hands over to the next; a step without one does it forever. {@code 2*off->panic} crashes at
 * the third hit.
 *
 * <p>gofail's chance prefix {@code p%} ({@code 10%return}, {@code 2.5%return}) is taken for
 * {@code return} only: the step acts on a hit with probability p, drawn from a generator seeded
 * from {@code KVORUM_FAILPOINTS_SEED} and the failpoint's name, so a run repeats its draws; a
 * counted step ({@code 10%3*return}) counts only the hits it acted on. A crash or a sleep by
 * chance is refused: a crash point has to fire where the test says.
 */
final class Term {
  enum Action { OFF, RETURN, SLEEP, PANIC }

  /** Steps in one term, so a term string cannot make an unbounded list. */
  static final int STEPS_MAX = 16;
  /** The longest sleep a term may ask for. */
  static final long SLEEP_MS_MAX = 60_000;

  /**
   * One step: its action, the sleep's milliseconds, how many hits it takes (-1: all), and the
   * chance it acts on a hit (1: always).
   */
  record Step(Action action, long arg, long count, double chance) {
    Step(Action action, long arg, long count) {
      this(action, arg, count, 1);
    }
  }

  static final Step OFF = new Step(Action.OFF, 0, -1);

  final String text;
  private final List<Step> steps;
  /** Draws the chances; null when no step has one. Guarded by this. */
  private final java.util.Random random;
  private int at;
  private long usedAt;

  private Term(String text, List<Step> steps, long seed) {
    this.text = text;
    this.steps = steps;
    this.random = steps.stream().anyMatch(s -> s.chance < 1) ? new java.util.Random(seed) : null;
  }

  /** A term without a chance step (or with one drawn from seed 0). */
  static Term parse(String text) {
    return parse(text, 0);
  }

  /** {@code text} parsed; its chance steps draw from a generator seeded with {@code seed}. */
  static Term parse(String text, long seed) {
    String[] parts = text.strip().split("->", -1);
    if (parts.length > STEPS_MAX) {
      throw new IllegalArgumentException("failpoint term " + text + ": more than " + STEPS_MAX + " steps");
    }
    List<Step> steps = new ArrayList<>();
    for (String p : parts) {
      steps.add(step(text, p.strip()));
    }
    return new Term(text.strip(), steps, seed);
  }

  private static Step step(String term, String s) {
    double chance = 1;
    int percent = s.indexOf('%');
    if (percent >= 0) {
      chance = percent(term, s.substring(0, percent));
      s = s.substring(percent + 1);
    }
    long count = -1;
    int star = s.indexOf('*');
    if (star >= 0) {
      count = number(term, s.substring(0, star));
      s = s.substring(star + 1);
    }
    String name = s;
    long arg = 0;
    int open = s.indexOf('(');
    if (open >= 0) {
      if (!s.endsWith(")")) {
        throw new IllegalArgumentException("failpoint term " + term + ": unclosed (");
      }
      name = s.substring(0, open);
      arg = number(term, s.substring(open + 1, s.length() - 1));
    }
    Action action = switch (name) {
      case "off" -> Action.OFF;
      case "return" -> Action.RETURN;
      case "sleep" -> Action.SLEEP;
      case "panic" -> Action.PANIC;
      default -> throw new IllegalArgumentException("failpoint term " + term + ": unknown action " + name);
    };
    if (action == Action.SLEEP && (open < 0 || arg > SLEEP_MS_MAX)) {
      throw new IllegalArgumentException("failpoint term " + term + ": sleep needs (ms), at most " + SLEEP_MS_MAX);
    }
    if (action != Action.SLEEP && open >= 0) {
      throw new IllegalArgumentException("failpoint term " + term + ": " + name + " takes no argument");
    }
    if (percent >= 0 && action != Action.RETURN) {
      throw new IllegalArgumentException("failpoint term " + term + ": p% (chance) is only for return, not " + name);
    }
    return new Step(action, arg, count, chance);
  }

  private static double percent(String term, String s) {
    try {
      if (!s.strip().matches("[0-9]{1,3}(\\.[0-9]{1,6})?")) {
        throw new NumberFormatException();
      }
      double p = Double.parseDouble(s.strip());
      if (!(p >= 0 && p <= 100)) {
        throw new NumberFormatException();
      }
      return p / 100;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("failpoint term " + term + ": not a percentage: " + s);
    }
  }

  private static long number(String term, String s) {
    try {
      long n = Long.parseLong(s.strip());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("failpoint term " + term + ": not a count: " + s);
    }
  }

  /**
   * The step this hit takes: {@link #OFF} once every counted step is used up, or when a chance
   * step's draw misses.
   */
  synchronized Step next() {
    while (at < steps.size()) {
      Step s = steps.get(at);
      if (s.count < 0 || usedAt < s.count) {
        if (s.chance < 1 && random.nextDouble() >= s.chance) {
          return OFF;
        }
        usedAt++;
        return s;
      }
      at++;
      usedAt = 0;
    }
    return OFF;
  }
}
