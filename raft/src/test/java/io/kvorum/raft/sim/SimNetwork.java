package io.kvorum.raft.sim;

import io.kvorum.raft.Message;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The simulated network: every sent message waits in one queue for its delivery step. Random
 * delays reorder messages; a message may be duplicated when sent and lost when due. Partitions are
 * per direction ({@code cut[from]} has bit {@code to} set), so one-way links are as easy to model as
 * split brains.
 *
 * <p>Loss is decided at delivery rather than at sending so that every lost snapshot is seen by the
 * cluster at one place and reported to its sender, as a real transport does; a leader never hears
 * about a snapshot that vanished would wait for it forever.
 */
public final class SimNetwork {
  /** A bound on queued messages; past it new ones are dropped, as a full send buffer would. */
  static final int IN_FLIGHT_MAX = 200_000;
  /** Member ids are bits of a {@code long} mask. */
  static final int NODE_ID_MAX = 63;

  /** One queued message; {@code order} breaks ties between messages due on the same step. */
  record InFlight(long deliverAt, long order, Message message, int senderIncarnation, boolean duplicate) {}

  private final SplittableRandom random;
  private final PriorityQueue<InFlight> queue = new PriorityQueue<>((a, b) -> {
    int c = Long.compare(a.deliverAt, b.deliverAt);
    return c != 0 ? c : Long.compare(a.order, b.order);
  });
  private final long[] cut = new long[NODE_ID_MAX + 1];
  double dropRate;
  double duplicateRate;
  int delayMinSteps;
  int delayMaxSteps;
  double longDelayRate;
  int longDelayMaxSteps;
  private long overflowDrops;

  SimNetwork(SplittableRandom random, SimConfig cfg) {
    this.random = random;
    dropRate = cfg.dropRate;
    duplicateRate = cfg.duplicateRate;
    delayMinSteps = cfg.delayMinSteps;
    delayMaxSteps = cfg.delayMaxSteps;
    longDelayRate = cfg.longDelayRate;
    longDelayMaxSteps = cfg.longDelayMaxSteps;
  }

  /** Queues {@code m}; returns false when it was duplicated (for the trace). */
  boolean send(Message m, long now, int senderIncarnation) {
    enqueue(m, now, senderIncarnation, false);
    if (duplicateRate > 0 && random.nextDouble() < duplicateRate) {
      enqueue(m, now, senderIncarnation, true);
      return false;
    }
    return true;
  }

  private void enqueue(Message m, long now, int senderIncarnation, boolean duplicate) {
    if (queue.size() >= IN_FLIGHT_MAX) {
      overflowDrops++;
      return;
    }
    int delay = delayMinSteps + (delayMaxSteps > delayMinSteps ? random.nextInt(delayMaxSteps - delayMinSteps + 1) : 0);
    if (longDelayRate > 0 && random.nextDouble() < longDelayRate) {
      delay += random.nextInt(longDelayMaxSteps + 1);
    }
    queue.add(new InFlight(now + Math.max(1, delay), random.nextLong(), m, senderIncarnation, duplicate));
  }

  /** The next message due at or before {@code now}, or null. */
  InFlight pollDue(long now) {
    InFlight f = queue.peek();
    if (f == null || f.deliverAt > now) {
      return null;
    }
    return queue.poll();
  }

  /** Whether a due message is lost to the weather (not to a partition). */
  boolean lose() {
    return dropRate > 0 && random.nextDouble() < dropRate;
  }

  public int inFlight() {
    return queue.size();
  }

  long overflowDrops() {
    return overflowDrops;
  }

  public boolean isCut(long from, long to) {
    return (cut[(int) from] & (1L << to)) != 0;
  }

  /** Blocks messages from {@code from} to {@code to} (one direction). */
  public void cut(long from, long to) {
    cut[(int) from] |= 1L << to;
  }

  /** Blocks both directions between every member of {@code a} and every member of {@code b}. */
  public void partition(long[] a, long[] b) {
    for (long x : a) {
      for (long y : b) {
        cut(x, y);
        cut(y, x);
      }
    }
  }

  /** Cuts {@code id} off from every other member, both ways. */
  public void isolate(long id) {
    for (int other = 1; other <= NODE_ID_MAX; other++) {
      if (other != id) {
        cut(id, other);
        cut(other, id);
      }
    }
  }

  /** Removes every partition. */
  public void heal() {
    java.util.Arrays.fill(cut, 0);
  }

  /** Reconnects {@code id} to every member in both directions. */
  public void heal(long id) {
    cut[(int) id] = 0;
    for (int other = 1; other <= NODE_ID_MAX; other++) {
      cut[other] &= ~(1L << id);
    }
  }

  boolean anyCut() {
    for (long c : cut) {
      if (c != 0) {
        return true;
      }
    }
    return false;
  }

  /** No loss, no duplicates, no long delays: the network of the liveness phase. */
  public void calm() {
    dropRate = 0;
    duplicateRate = 0;
    longDelayRate = 0;
  }

  String describeCuts() {
    StringBuilder sb = new StringBuilder();
    for (int from = 1; from <= NODE_ID_MAX; from++) {
      if (cut[from] != 0) {
        sb.append(' ').append(from).append("-x->{");
        String sep = "";
        for (int to = 1; to <= NODE_ID_MAX; to++) {
          if ((cut[from] & (1L << to)) != 0) {
            sb.append(sep).append(to);
            sep = ",";
          }
        }
        sb.append('}');
      }
    }
    return sb.length() == 0 ? " none" : sb.toString();
  }
}
