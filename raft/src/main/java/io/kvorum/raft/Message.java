package io.kvorum.raft;

import java.util.List;

/**
 * A message between members (or a local input). Immutable; build with {@link #builder(MessageType)}.
 *
 * <p>Fields by kind: {@code index}/{@code logTerm} locate the entry before {@code entries} in APP,
 * the candidate's last entry in VOTE; {@code commit} carries the leader's commit index;
 * {@code reject}/{@code rejectHint}/{@code logTerm} describe an APP_RESP rejection; {@code context}
 * is a ReadIndex request's identifier, or a campaign reason in VOTE.
 */
public record Message(
    MessageType type,
    long to,
    long from,
    long term,
    long logTerm,
    long index,
    List<Entry> entries,
    long commit,
    Snapshot snapshot,
    boolean reject,
    long rejectHint,
    byte[] context) {

  public Message {
    entries = entries == null ? List.of() : entries;
  }

  public static Builder builder(MessageType type) {
    return new Builder(type);
  }

  public Builder toBuilder() {
    Builder b = new Builder(type);
    b.to = to;
    b.from = from;
    b.term = term;
    b.logTerm = logTerm;
    b.index = index;
    b.entries = entries;
    b.commit = commit;
    b.snapshot = snapshot;
    b.reject = reject;
    b.rejectHint = rejectHint;
    b.context = context;
    return b;
  }

  /** Sum of {@link Entry#sizeBytes()} of the carried entries. */
  public long entriesSizeBytes() {
    long n = 0;
    for (Entry e : entries) {
      n += e.sizeBytes();
    }
    return n;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(type).append(' ').append(from).append("->").append(to).append(" t").append(term);
    if (logTerm != 0 || index != 0) {
      sb.append(" lt").append(logTerm).append(" i").append(index);
    }
    if (!entries.isEmpty()) {
      sb.append(" ents=").append(entries.size()).append('[').append(entries.get(0).index()).append("..")
          .append(entries.get(entries.size() - 1).index()).append(']');
    }
    if (commit != 0) {
      sb.append(" c").append(commit);
    }
    if (reject) {
      sb.append(" REJECT hint=").append(rejectHint);
    }
    if (snapshot != null) {
      sb.append(" snap=").append(snapshot.index()).append('/').append(snapshot.term());
    }
    return sb.toString();
  }

  /** Mutable builder of {@link Message}. */
  public static final class Builder {
    private final MessageType type;
    private long to;
    private long from;
    private long term;
    private long logTerm;
    private long index;
    private List<Entry> entries = List.of();
    private long commit;
    private Snapshot snapshot;
    private boolean reject;
    private long rejectHint;
    private byte[] context;

    private Builder(MessageType type) {
      this.type = type;
    }

    public Builder to(long v) {
      to = v;
      return this;
    }

    public Builder from(long v) {
      from = v;
      return this;
    }

    public Builder term(long v) {
      term = v;
      return this;
    }

    public Builder logTerm(long v) {
      logTerm = v;
      return this;
    }

    public Builder index(long v) {
      index = v;
      return this;
    }

    public Builder entries(List<Entry> v) {
      entries = v;
      return this;
    }

    public Builder commit(long v) {
      commit = v;
      return this;
    }

    public Builder snapshot(Snapshot v) {
      snapshot = v;
      return this;
    }

    public Builder reject(boolean v) {
      reject = v;
      return this;
    }

    public Builder rejectHint(long v) {
      rejectHint = v;
      return this;
    }

    public Builder context(byte[] v) {
      context = v;
      return this;
    }

    public Message build() {
      return new Message(type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context);
    }
  }
}
