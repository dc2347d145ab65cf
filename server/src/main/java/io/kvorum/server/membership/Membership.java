package io.kvorum.server.membership;

import io.kvorum.proto.serverpb.MembershipRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The cluster's members, changed only by the apply thread (bootstrap, published attributes,
 * membership changes) and read by any thread. The checks of {@link #check} are etcd's
 * {@code ValidateConfigurationChange}, run at apply time so every member decides the same way.
 */
public final class Membership {
  /** etcd 3.4's limit on learners in a cluster. */
  public static final int MAX_LEARNERS = 1;

  /** Why a membership change is refused (etcd's membership errors). */
  public enum Refusal {
    /** The id was removed before (etcd's ErrIDRemoved) or is unknown (ErrIDNotFound). */
    NOT_FOUND,
    EXISTS,
    PEER_URL_EXISTS,
    NOT_LEARNER,
    TOO_MANY_LEARNERS
  }

  /** The kinds of membership change. */
  public enum Kind { ADD, PROMOTE, REMOVE, UPDATE }

  private final long clusterId;
  private final ConcurrentSkipListMap<Long, Member> members = new ConcurrentSkipListMap<>(Long::compareUnsigned);
  private final Set<Long> removed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Log indexes of refused changes (apply thread only). */
  private final List<Long> refusedIndexes = new ArrayList<>();

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

  public boolean isRemoved(long id) {
    return removed.contains(id);
  }

  /** Voting members. */
  public List<Member> voters() {
    return members.values().stream().filter(m -> !m.isLearner()).toList();
  }

  /** Applies a member's published name and client URLs (unknown members are ignored). */
  public void publish(long id, String name, List<String> clientUrls) {
    members.computeIfPresent(id, (k, m) -> m.withAttributes(name, clientUrls));
  }

  /**
   * Whether the change may be applied to the membership as it is now; null if it may.
   *
   * @param peerUrls the new member's (ADD) or the member's new (UPDATE) peer URLs
   */
  public Refusal check(Kind kind, long id, List<String> peerUrls, boolean learner) {
    if (removed.contains(id)) {
      return Refusal.NOT_FOUND;
    }
    Member m = members.get(id);
    switch (kind) {
      case ADD -> {
        if (m != null) {
          return Refusal.EXISTS;
        }
        if (urlTaken(peerUrls, 0)) {
          return Refusal.PEER_URL_EXISTS;
        }
        if (learner && members.values().stream().filter(Member::isLearner).count() + 1 > MAX_LEARNERS) {
          return Refusal.TOO_MANY_LEARNERS;
        }
      }
      case PROMOTE -> {
        if (m == null) {
          return Refusal.NOT_FOUND;
        }
        if (!m.isLearner()) {
          return Refusal.NOT_LEARNER;
        }
      }
      case REMOVE -> {
        if (m == null) {
          return Refusal.NOT_FOUND;
        }
      }
      case UPDATE -> {
        if (m == null) {
          return Refusal.NOT_FOUND;
        }
        if (urlTaken(peerUrls, id)) {
          return Refusal.PEER_URL_EXISTS;
        }
      }
      default -> throw new IllegalArgumentException(kind.toString());
    }
    return null;
  }

  private boolean urlTaken(List<String> urls, long except) {
    Set<String> taken = new HashSet<>();
    for (Member o : members.values()) {
      if (o.id() != except) {
        taken.addAll(o.peerUrls());
      }
    }
    return urls.stream().anyMatch(taken::contains);
  }

  /** Applies a change {@link #check} allowed. */
  public void apply(Kind kind, long id, List<String> peerUrls, boolean learner) {
    switch (kind) {
      case ADD -> members.put(id, new Member(id, "", peerUrls, List.of(), learner));
      case PROMOTE -> members.computeIfPresent(id, (k, m) -> new Member(id, m.name(), m.peerUrls(), m.clientUrls(), false));
      case REMOVE -> {
        members.remove(id);
        removed.add(id);
      }
      case UPDATE -> members.computeIfPresent(id, (k, m) -> new Member(id, m.name(), peerUrls, m.clientUrls(), m.isLearner()));
      default -> throw new IllegalArgumentException(kind.toString());
    }
  }

  /** Records that the change at log index {@code index} was refused. */
  public void refused(long index) {
    refusedIndexes.add(index);
  }

  public boolean wasRefused(long index) {
    return refusedIndexes.contains(index);
  }

  /** The whole membership as stored in the backend. */
  public MembershipRecord record() {
    MembershipRecord.Builder b = MembershipRecord.newBuilder();
    members.values().forEach(m -> b.addMembers(m.toProto()));
    removed.stream().sorted(Long::compareUnsigned).forEach(b::addRemoved);
    refusedIndexes.forEach(b::addRefusedIndexes);
    return b.build();
  }

  /** Replaces the membership with a stored record (restart, or a snapshot installed from the leader). */
  public void load(MembershipRecord r) {
    members.clear();
    for (io.kvorum.proto.etcdserverpb.Member m : r.getMembersList()) {
      members.put(m.getID(), Member.fromProto(m));
    }
    removed.clear();
    removed.addAll(r.getRemovedList());
    refusedIndexes.clear();
    refusedIndexes.addAll(r.getRefusedIndexesList());
  }
}
