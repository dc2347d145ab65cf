package io.kvorum.tests.robustness;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchProgressRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.tests.MemberProcess;
import io.kvorum.tests.robustness.check.Finding;
import io.kvorum.tests.robustness.check.Operation;
import io.kvorum.tests.robustness.check.Verdict;
import io.kvorum.tests.robustness.check.WatchCheck;
import io.kvorum.tests.robustness.check.WatchEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One watcher of the workload's key range, with {@code prev_kv}, that asks for progress now and
 * then. A stream that breaks (its member killed, stopped or cut off) is opened again on the next
 * member from the revision after the last event, and a compacted start from the compaction's
 * revision: each stream is a segment checked on its own. Besides {@link WatchCheck}, the recorder
 * checks what the segment alone can show: each event's {@code prev_kv} is the key's previous event
 * in the segment, and a progress notification never reports a revision below an event already
 * delivered.
 */
final class WatchRecorder implements AutoCloseable {
  /** Time between progress requests on a stream. */
  static final long PROGRESS_INTERVAL_MS = 500;
  /** Events a segment keeps; a run that exceeds it is a bug in the run's sizing. */
  static final int EVENTS_MAX = 1_000_000;

  /** One stream's record. */
  static final class Segment {
    final long start;
    final String member;
    final List<WatchEvent> events = new ArrayList<>();
    /** When each event of {@link #events} arrived (the recorder's nanoseconds). */
    final List<Long> received = new ArrayList<>();
    final List<Finding> findings = new ArrayList<>();
    final Map<String, WatchEvent> lastByKey = new HashMap<>();
    /** Events sent without the prev_kv they should carry, unless a compaction had removed it. */
    final List<Finding> missingPrevKv = new ArrayList<>();
    final List<Long> missingPrevKvRevisions = new ArrayList<>();
    long lastRevision;
    /**
     * The newest event this segment's stream delivered (0 before any). A progress answer below it
     * breaks the stream's promise; one below {@link #start} alone does not: a member behind the
     * one the watcher last used (restarted, still replaying) answers with its own revision, as
     * etcd 3.4 does for a watch whose start revision is still ahead of it.
     */
    long lastDelivered;
    long progressRevision;
    int progressResponses;

    Segment(long start, String member) {
      this.start = start;
      this.member = member;
      this.lastRevision = start - 1;
    }
  }

  private final ProcessCluster cluster;
  private final String prefix;
  private final List<Segment> segments = new ArrayList<>();
  private final Thread thread;
  private volatile boolean closed;
  private volatile StreamObserver<WatchRequest> requests;
  private volatile boolean broken;
  private int member;

  WatchRecorder(ProcessCluster cluster, String prefix, long startRevision, int firstMember) {
    this.cluster = cluster;
    this.prefix = prefix;
    this.member = firstMember;
    synchronized (this) {
      segments.add(new Segment(startRevision, ""));
    }
    this.thread = new Thread(this::run, "watch-recorder");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (!closed) {
      Segment seg = open();
      while (!closed && !broken) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PROGRESS_INTERVAL_MS));
        StreamObserver<WatchRequest> r = requests;
        if (r != null && !broken) {
          try {
            synchronized (r) {
              r.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
            }
          } catch (RuntimeException e) {
            broken = true;
          }
        }
      }
      StreamObserver<WatchRequest> r = requests;
      if (r != null) {
        try {
          r.onCompleted();
        } catch (RuntimeException e) {
          // Already broken.
        }
      }
      member++;
      if (!closed) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }

  /** Opens a stream on the next member, from after the last segment's last event. */
  private Segment open() {
    List<MemberProcess> ms = cluster.members();
    MemberProcess m = ms.get(Math.floorMod(member, ms.size()));
    Segment seg;
    synchronized (this) {
      Segment last = segments.get(segments.size() - 1);
      seg = last.events.isEmpty() && last.member.isEmpty() ? null : new Segment(last.lastRevision + 1, m.name);
      if (seg == null) {
        segments.set(0, seg = new Segment(last.start, m.name));
      } else {
        segments.add(seg);
      }
    }
    broken = false;
    Segment s = seg;
    StreamObserver<WatchRequest> r = WatchGrpc.newStub(cluster.channel(m)).watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse w) {
        received(s, w);
      }

      @Override
      public void onError(Throwable t) {
        broken = true;
      }

      @Override
      public void onCompleted() {
        broken = true;
      }
    });
    requests = r;
    synchronized (r) {
      r.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8(prefix)).setRangeEnd(ByteString.copyFromUtf8(prefixEnd(prefix)))
          .setStartRevision(s.start).setPrevKv(true)).build());
    }
    return s;
  }

  private static String prefixEnd(String prefix) {
    return prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1);
  }

  private synchronized void received(Segment s, WatchResponse w) {
    if (w.getCompactRevision() > 0) {
      // The start was compacted away: what follows is a new segment from the compaction.
      segments.add(new Segment(w.getCompactRevision(), s.member));
      broken = true;
      return;
    }
    if (w.getCanceled()) {
      broken = true;
      return;
    }
    if (w.getEventsCount() == 0 && !w.getCreated()) {
      s.progressResponses++;
      long rev = w.getHeader().getRevision();
      if (rev < s.lastDelivered) {
        s.findings.add(new Finding("progress notification at revision " + rev + " after an event at "
            + s.lastDelivered + " on " + s.member, List.of()));
      }
      s.progressRevision = Math.max(s.progressRevision, rev);
      return;
    }
    for (Event e : w.getEventsList()) {
      String key = e.getKv().getKey().toStringUtf8();
      WatchEvent ev = e.getType() == Event.EventType.PUT
          ? new WatchEvent(key, e.getKv().getModRevision(), WatchEvent.Type.PUT, e.getKv().getValue().toStringUtf8())
          : new WatchEvent(key, e.getKv().getModRevision(), WatchEvent.Type.DELETE, null);
      WatchEvent before = s.lastByKey.get(key);
      if (before != null) {
        String expected = before.type() == WatchEvent.Type.PUT ? before.value() : null;
        String got = e.hasPrevKv() ? e.getPrevKv().getValue().toStringUtf8() : null;
        if (got == null && expected != null) {
          // etcd reads prev_kv at the event's revision - 1 when it sends the event, and sends the
          // event without it when that revision is compacted by then: decided at check time.
          s.missingPrevKv.add(new Finding("event " + ev + " carries no prev_kv but the key's previous event was "
              + before + " on " + s.member + ", and no compaction reached revision " + ev.revision(), List.of()));
          s.missingPrevKvRevisions.add(ev.revision());
        } else if (!java.util.Objects.equals(expected, got)) {
          s.findings.add(new Finding("event " + ev + " carries prev_kv " + got + " but the key's previous event was "
              + before + " on " + s.member, List.of()));
        }
      }
      s.lastByKey.put(key, ev);
      if (s.events.size() < EVENTS_MAX) {
        s.events.add(ev);
        s.received.add(System.nanoTime());
      }
      s.lastRevision = Math.max(s.lastRevision, ev.revision());
      s.lastDelivered = Math.max(s.lastDelivered, ev.revision());
    }
  }

  /** The highest revision the watcher is known to be complete up to: its last event or progress. */
  synchronized long caughtUp() {
    Segment last = segments.get(segments.size() - 1);
    return Math.max(last.lastRevision, last.progressRevision);
  }

  /** Waits (bounded) until the watcher has caught up with {@code revision}. */
  boolean awaitCaughtUp(long revision, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      if (caughtUp() >= revision) {
        return true;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
    return false;
  }

  /** A put the watcher saw: its revision and when it first arrived. */
  record Seen(long revision, long receivedNanos) {}

  /** Every value put that this watcher saw, with the revision and the first arrival. */
  synchronized Map<String, Seen> seenValues() {
    Map<String, Seen> out = new HashMap<>();
    for (Segment s : segments) {
      for (int i = 0; i < s.events.size(); i++) {
        WatchEvent e = s.events.get(i);
        if (e.type() == WatchEvent.Type.PUT) {
          Seen before = out.get(e.value());
          if (before == null || s.received.get(i) < before.receivedNanos()) {
            out.put(e.value(), new Seen(e.revision(), s.received.get(i)));
          }
        }
      }
    }
    return out;
  }

  /** What the checks found in every segment against the writes in {@code kvOps}. */
  record Outcome(Verdict verdict, int segments, long events, long progressResponses, List<Finding> findings) {}

  /**
   * @param compactedUpTo the highest revision any compaction of the run asked for (sent, whatever
   *     its answer): an event at or below it may come without its prev_kv
   */
  synchronized Outcome check(List<Operation> kvOps, long compactedUpTo) {
    Verdict v = Verdict.OK;
    List<Finding> findings = new ArrayList<>();
    long events = 0;
    long progress = 0;
    for (Segment s : segments) {
      for (int i = 0; i < s.missingPrevKv.size(); i++) {
        if (s.missingPrevKvRevisions.get(i) > compactedUpTo) {
          s.findings.add(s.missingPrevKv.get(i));
        }
      }
      s.missingPrevKv.clear();
      s.missingPrevKvRevisions.clear();
      WatchCheck.Result r = WatchCheck.check(s.start, s.events, kvOps);
      if (r.verdict() != Verdict.OK || !s.findings.isEmpty()) {
        v = r.verdict() == Verdict.UNKNOWN && s.findings.isEmpty() ? (v == Verdict.OK ? Verdict.UNKNOWN : v) : Verdict.VIOLATION;
        r.findings().forEach(f -> findings.add(new Finding("segment from " + s.start + " on " + s.member + ": "
            + f.description(), f.operations())));
        findings.addAll(s.findings);
      }
      events += s.events.size();
      progress += s.progressResponses;
    }
    return new Outcome(v, segments.size(), events, progress, findings);
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
