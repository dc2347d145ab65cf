package io.kvorum.server.metrics;

import io.kvorum.server.transport.PeerObserver;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * etcd's peer network metrics ({@code etcdserver/api/rafthttp/metrics.go}), labelled with member
 * ids in hexadecimal as etcd labels them. The transport asks for a peer's counters once per sender
 * or stream; each holds its labelled children, so counting is an add.
 */
final class NetworkMetrics implements PeerObserver {
  private static final double NANOS_PER_SECOND = 1e9;

  private final Counter sentBytes;
  private final Counter receivedBytes;
  private final Counter sentFailures;
  private final Histogram roundTrips;
  private final Counter disconnects;
  private final Supplier<MemberGauges> member;
  private final LongAdder heartbeatFailures = new LongAdder();

  NetworkMetrics(Families f, Supplier<MemberGauges> member) {
    this.member = member;
    disconnects = f.labelledCounter("etcd_network_disconnected_peers_total", "The total number of disconnected peers.",
        "Local", "Remote");
    sentBytes = f.labelledCounter("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.",
        "To");
    receivedBytes = f.labelledCounter("etcd_network_peer_received_bytes_total",
        "The total number of bytes received from peers.", "From");
    sentFailures = f.labelledCounter("etcd_network_peer_sent_failures_total",
        "The total number of send failures from peers.", "To");
    roundTrips = f.histogram("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers",
        0.0001, 2, 16, "To");
    f.counter("etcd_server_heartbeat_send_failures_total",
        "The total number of leader heartbeat send failures (likely overloaded from slow disk).",
        heartbeatFailures::sum);
    GaugeWithCallback.builder().name("etcd_network_active_peers").help("The current number of active peer connections.")
        .labelNames("Local", "Remote").callback(cb -> {
          MemberGauges m = member.get();
          if (m == null) {
            return;
          }
          String local = Long.toHexString(m.memberId());
          for (long peer : m.peers()) {
            cb.call(m.peerActive(peer) ? 1 : 0, local, Long.toHexString(peer));
          }
        }).register(f.registry());
  }

  @Override
  public Peer peer(long peerId) {
    String id = Long.toHexString(peerId);
    CounterDataPoint sent = sentBytes.labelValues(id);
    CounterDataPoint received = receivedBytes.labelValues(id);
    CounterDataPoint failures = sentFailures.labelValues(id);
    io.prometheus.metrics.core.datapoints.DistributionDataPoint rtt = roundTrips.labelValues(id);
    MemberGauges m = member.get();
    // The transport asks before the member is bound only in tests of the transport alone.
    String local = m == null ? "0" : Long.toHexString(m.memberId());
    return new Peer() {
      @Override
      public void sent(long bytes) {
        sent.inc(bytes);
      }

      @Override
      public void received(long bytes) {
        received.inc(bytes);
      }

      @Override
      public void dropped(int messages, int heartbeats) {
        failures.inc(messages);
        if (heartbeats > 0) {
          heartbeatFailures.add(heartbeats);
        }
      }

      @Override
      public void roundTrip(long nanos) {
        rtt.observe(nanos / NANOS_PER_SECOND);
      }

      @Override
      public void disconnected() {
        disconnects.labelValues(local, id).inc();
      }
    };
  }
}
