package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.raft.Status;
import io.kvorum.server.snapshot.SnapshotStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** etcd's Maintenance service as the member serves it. */
public interface MaintenanceServer {
  Status raftStatus();

  /** The member's logical size, which the backend quota measures (etcd: its bbolt file's size). */
  long dbSizeBytes();

  /** The raised alarms, as this member applied them. */
  List<AlarmMember> alarms();

  /** etcd's {@code Alarm}: lists, raises or disarms alarms through the log. */
  CompletableFuture<AlarmResponse> alarm(RequestContext ctx, AlarmRequest r);

  long appliedIndex();

  CompletableFuture<HashResponse> hash(RequestContext ctx);

  CompletableFuture<HashKVResponse> hashKv(RequestContext ctx, long revision);

  /**
   * etcd's Defragment: a full compaction of this member's backend, which gives the space of deleted
   * records back; reads and writes go on meanwhile (etcd stops the world).
   */
  CompletableFuture<Void> defragment(RequestContext ctx);

  /**
   * etcd's Snapshot: writes the backend, read at one point in time, in etcd's snapshot format; the
   * caller streams it and closes the stream (which removes the file).
   */
  CompletableFuture<SnapshotStream> snapshot(RequestContext ctx);

  /** Hands leadership from this member, which must lead, to voter {@code transferee}. */
  CompletableFuture<Void> moveLeader(RequestContext ctx, long transferee);
}
