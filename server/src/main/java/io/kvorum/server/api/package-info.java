/**
 * The client edge: etcd's gRPC services on the client URLs. The only place that knows
 * {@code io.grpc.Status}: typed errors from below become etcd's exact gRPC errors here.
 */
package io.kvorum.server.api;
