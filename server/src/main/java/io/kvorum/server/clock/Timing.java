package io.kvorum.server.clock;

/**
 * Times one kind of operation on the member's clock, for a latency histogram: the code that does
 * the operation brackets it with {@link #start} and {@link #stop} and never reads the time itself.
 * {@link #NONE} does nothing and is what a part gets when nobody measures it (tests, tools).
 */
public interface Timing {
  Timing NONE = new Timing() {
    @Override
    public long start() {
      return 0;
    }

    @Override
    public void stop(long start) {}
  };

  /** A start mark (the clock's nanoseconds), to hand to {@link #stop}. */
  long start();

  /** Records the time since {@code start}. */
  void stop(long start);
}
