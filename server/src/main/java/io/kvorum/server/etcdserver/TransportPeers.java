package io.kvorum.server.etcdserver;

import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.transport.PeerTransport;
import java.net.URI;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The transport's peers following the applied membership. */
record TransportPeers(long self, PeerTransport transport, Runnable onRemoved) implements MemberApplier.Peers {
  private static final Logger LOG = LoggerFactory.getLogger(TransportPeers.class);

  @Override
  public void connect(Membership membership) {
    for (Member m : membership.list()) {
      if (m.id() != self) {
        try {
          transport.addPeer(m.id(), m.peerUrls().stream().map(URI::create).toList());
        } catch (RuntimeException e) {
          LOG.warn("cannot reach member {} at {}: {}", Long.toHexString(m.id()), m.peerUrls(), e.toString());
        }
      }
    }
  }

  @Override
  public void changed(Membership.Kind kind, long id, List<String> urls) {
    try {
      switch (kind) {
        case ADD, UPDATE -> transport.addPeer(id, urls.stream().map(URI::create).toList());
        case REMOVE -> {
          // Stopping a sender waits for its thread: not on the apply thread.
          Thread t = new Thread(() -> transport.removePeer(id), "kvorum-remove-peer");
          t.setDaemon(true);
          t.start();
        }
        default -> { }
      }
    } catch (RuntimeException ex) {
      LOG.warn("cannot reach member {} at {}: {}", Long.toHexString(id), urls, ex.toString());
    }
  }

  @Override
  public Set<Long> ids() {
    return Set.copyOf(transport.peerIds());
  }

  @Override
  public void removed() {
    onRemoved.run();
  }
}
