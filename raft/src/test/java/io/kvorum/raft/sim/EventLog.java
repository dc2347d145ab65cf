package io.kvorum.raft.sim;

/**
 * The last {@link #CAPACITY} things that happened in a simulation (200, or {@code -Dsim.traceEvents}
 * when replaying a seed needs a longer story), kept so a failure can show how it came about.
 * Recording stores references and primitives only; text is built when a failure is rendered, so the
 * hot path does not pay for formatting.
 */
public final class EventLog {
  static final int CAPACITY = Math.max(1, Integer.getInteger("sim.traceEvents", 200));

  /** What an event was. */
  enum Kind {
    DELIVER,
    DROP,
    DUPLICATE,
    PROPOSE,
    PROPOSE_DROPPED,
    CONF_CHANGE_PROPOSED,
    CONF_CHANGE_APPLIED,
    CAMPAIGN,
    TRANSFER,
    READ_INDEX,
    READ_STATE,
    ROLE,
    CRASH,
    RESTART,
    START,
    DECOMMISSION,
    PARTITION,
    HEAL,
    WEATHER,
    SNAPSHOT_CREATED,
    SNAPSHOT_RESTORED,
    REPORT,
    NOTE
  }

  private final long[] steps = new long[CAPACITY];
  private final Kind[] kinds = new Kind[CAPACITY];
  private final long[] nodes = new long[CAPACITY];
  private final Object[] details = new Object[CAPACITY];
  private long total;

  void add(long step, Kind kind, long node, Object detail) {
    int i = (int) (total % CAPACITY);
    steps[i] = step;
    kinds[i] = kind;
    nodes[i] = node;
    details[i] = detail;
    total++;
  }

  long total() {
    return total;
  }

  /** The kept events, oldest first, one a line. */
  String render() {
    StringBuilder sb = new StringBuilder();
    long from = Math.max(0, total - CAPACITY);
    if (from > 0) {
      sb.append("  (").append(from).append(" earlier events not kept)\n");
    }
    for (long k = from; k < total; k++) {
      int i = (int) (k % CAPACITY);
      sb.append("  #").append(steps[i]).append(' ').append(kinds[i]);
      if (nodes[i] != 0) {
        sb.append(" n").append(nodes[i]);
      }
      if (details[i] != null) {
        sb.append(' ').append(details[i]);
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
