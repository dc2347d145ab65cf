package io.kvorum.server.membership;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The cluster's members, changed only by the apply thread (bootstrap, published attributes,
 * membership changes) and read by any thread.
 */
public final class Membership {
  private final long clusterId;
  private final ConcurrentSkipListMap<Long, Member> members = new ConcurrentSkipListMap<>(Long::compareUnsigned);

  public Membership(long clusterId, Collection<Member> initial) {
    this.clusterId = clusterId;
    for (Member m : initial) {
      members.put(m.id(), m);
    }
  }

  public long clusterId() {
    return clusterId;
  }

  public Member get(long id) {
    return members.get(id);
  }

  public List<Member> list() {
    return new ArrayList<>(members.values());
  }

  /** Applies a member's published name and client URLs (unknown members are ignored). */
  public void publish(long id, String name, List<String> clientUrls) {
    members.computeIfPresent(id, (k, m) -> m.withAttributes(name, clientUrls));
  }

  public void add(Member m) {
    members.put(m.id(), m);
  }

  public void remove(long id) {
    members.remove(id);
  }
}
