package io.kvorum.server.etcdserver;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Unique ids for proposals, as etcd makes them: the low 16 bits of the member id in the top 16
 * bits, then the start time in milliseconds (40 bits) and an 8-bit counter that carries into it.
 * Unique across restarts as long as a restart takes more than a millisecond per 256 ids issued.
 */
final class RequestIds {
  private static final int TS_BITS = 40;
  private static final int CNT_BITS = 8;
  private static final long SUFFIX_MASK = (1L << (TS_BITS + CNT_BITS)) - 1;

  private final long prefix;
  private final AtomicLong suffix;

  RequestIds(long memberId, long nowMillis) {
    this.prefix = (memberId & 0xFFFF) << (TS_BITS + CNT_BITS);
    this.suffix = new AtomicLong(((nowMillis & ((1L << TS_BITS) - 1)) << CNT_BITS));
  }

  long next() {
    return prefix | (suffix.incrementAndGet() & SUFFIX_MASK);
  }
}
