/**
 * etcd's client-visible errors: one catalogue of codes and exact messages, raised anywhere in the
 * server and turned into gRPC statuses only at the API edge.
 */
package io.kvorum.server.errors;
