package io.kvorum.server.failpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * What a failpoint does when it is hit, in gofail's term language: steps joined by {@code ->},
 * each {@code [n*]action[(arg)]}, where the action is {@code off}, {@code return},
 * {@code sleep(ms)} or {@code panic}. A step with a count does its action that many times, then
 * hands over to the next; a step without one does it forever. {@code 2*off->panic} crashes at
 * the third hit. gofail's {@code p%} prefix is refused: a crash point that fires by chance would
 * make a run impossible to repeat.
 */
final class Term {
  enum Action { OFF, RETURN, SLEEP, PANIC }

  /** Steps in one term, so a term string cannot make an unbounded list. */
  static final int STEPS_MAX = 16;
  /** The longest sleep a term may ask for. */
  static final long SLEEP_MS_MAX = 60_000;

  /** One step: its action, the sleep's milliseconds, and how many hits it takes (-1: all). */
  record Step(Action action, long arg, long count) {}

  static final Step OFF = new Step(Action.OFF, 0, -1);

  final String text;
  private final List<Step> steps;
  private int at;
  private long usedAt;

  private Term(String text, List<Step> steps) {
    this.text = text;
    this.steps = steps;
  }

  static Term parse(String text) {
    String[] parts = text.strip().split("->", -1);
    if (parts.length > STEPS_MAX) {
      throw new IllegalArgumentException("failpoint term " + text + ": more than " + STEPS_MAX + " steps");
    }
    List<Step> steps = new ArrayList<>();
    for (String p : parts) {
      steps.add(step(text, p.strip()));
    }
    return new Term(text.strip(), steps);
  }

  private static Step step(String term, String s) {
    long count = -1;
    int star = s.indexOf('*');
    if (star >= 0) {
      count = number(term, s.substring(0, star));
      s = s.substring(star + 1);
    } else if (s.indexOf('%') >= 0) {
      throw new IllegalArgumentException("failpoint term " + term + ": p% (chance) is not supported");
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
    return new Step(action, arg, count);
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

  /** The step this hit takes: {@link #OFF} once every counted step is used up. */
  synchronized Step next() {
    while (at < steps.size()) {
      Step s = steps.get(at);
      if (s.count < 0 || usedAt < s.count) {
        usedAt++;
        return s;
      }
      at++;
      usedAt = 0;
    }
    return OFF;
  }
}
