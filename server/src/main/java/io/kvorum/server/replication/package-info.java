/**
 * Replication: the raft loop that steps the consensus state machine, persists what it decides,
 * sends its messages and hands committed entries, in order, to the applier.
 */
package io.kvorum.server.replication;
