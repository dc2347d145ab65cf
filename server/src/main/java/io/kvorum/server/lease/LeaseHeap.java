package io.kvorum.server.lease;

import java.util.Arrays;

/**
 * An indexed binary min-heap of leases ordered by one of their deadlines (expiry or next
 * checkpoint). Every lease knows its slot, so insert, update and remove are O(log n) and nothing
 * stale is left behind when a lease is renewed (etcd 3.4's {@code LeaseQueue} idea).
 *
 * <p>Not thread-safe; the {@link Lessor} guards it.
 */
final class LeaseHeap {
  /** Which deadline of a lease this heap orders by, and where the lease keeps its slot. */
  interface Key {
    long deadline(Lessor.Lease l);

    int slot(Lessor.Lease l);

    void setSlot(Lessor.Lease l, int slot);
  }

  static final Key EXPIRY = new Key() {
    @Override
    public long deadline(Lessor.Lease l) {
      return l.expiryNanos;
    }

    @Override
    public int slot(Lessor.Lease l) {
      return l.expirySlot;
    }

    @Override
    public void setSlot(Lessor.Lease l, int slot) {
      l.expirySlot = slot;
    }
  };

  static final Key CHECKPOINT = new Key() {
    @Override
    public long deadline(Lessor.Lease l) {
      return l.checkpointNanos;
    }

    @Override
    public int slot(Lessor.Lease l) {
      return l.checkpointSlot;
    }

    @Override
    public void setSlot(Lessor.Lease l, int slot) {
      l.checkpointSlot = slot;
    }
  };

  private final Key key;
  private Lessor.Lease[] items = new Lessor.Lease[16];
  private int size;

  LeaseHeap(Key key) {
    this.key = key;
  }

  int size() {
    return size;
  }

  /** The lease with the earliest deadline, or null. */
  Lessor.Lease peek() {
    return size == 0 ? null : items[0];
  }

  boolean contains(Lessor.Lease l) {
    int s = key.slot(l);
    return s >= 0 && s < size && items[s] == l;
  }

  /** Inserts {@code l}, or moves it after its deadline changed. */
  void upsert(Lessor.Lease l) {
    if (contains(l)) {
      int s = key.slot(l);
      siftUp(s);
      siftDown(key.slot(l));
      return;
    }
    if (size == items.length) {
      items = Arrays.copyOf(items, size * 2);
    }
    items[size] = l;
    key.setSlot(l, size);
    size++;
    siftUp(size - 1);
  }

  void remove(Lessor.Lease l) {
    if (!contains(l)) {
      return;
    }
    int s = key.slot(l);
    size--;
    key.setSlot(l, -1);
    if (s == size) {
      items[size] = null;
      return;
    }
    Lessor.Lease last = items[size];
    items[size] = null;
    items[s] = last;
    key.setSlot(last, s);
    siftUp(s);
    siftDown(key.slot(last));
  }

  void clear() {
    for (int i = 0; i < size; i++) {
      key.setSlot(items[i], -1);
      items[i] = null;
    }
    size = 0;
  }

  private void siftUp(int i) {
    Lessor.Lease x = items[i];
    long d = key.deadline(x);
    while (i > 0) {
      int p = (i - 1) >>> 1;
      Lessor.Lease parent = items[p];
      if (key.deadline(parent) <= d) {
        break;
      }
      items[i] = parent;
      key.setSlot(parent, i);
      i = p;
    }
    items[i] = x;
    key.setSlot(x, i);
  }

  private void siftDown(int i) {
    Lessor.Lease x = items[i];
    long d = key.deadline(x);
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      int r = c + 1;
      if (r < size && key.deadline(items[r]) < key.deadline(items[c])) {
        c = r;
      }
      if (d <= key.deadline(items[c])) {
        break;
      }
      items[i] = items[c];
      key.setSlot(items[i], i);
      i = c;
    }
    items[i] = x;
    key.setSlot(x, i);
  }
}
