/**
 * The member-to-member raft transport: raft messages carried over gRPC streams between the members
 * of one cluster, with bounded per-peer queues and reconnection. The only package besides the API
 * edge that knows {@code io.grpc} (and gRPC's shaded netty).
 */
package io.kvorum.server.transport;
