/**
 * Cluster membership: members with their peer and client URLs, and the member and cluster ids,
 * computed exactly as etcd 3.4 computes them so ids match byte for byte.
 */
package io.kvorum.server.membership;
