/**
 * The member: wires raft, the WAL, the MVCC store and the transport together, proposes requests
 * through the log, applies committed ones in order and answers the client that asked.
 */
package io.kvorum.server.etcdserver;
