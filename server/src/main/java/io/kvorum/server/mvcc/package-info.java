/**
 * The multi-version key-value store: every write makes a new revision of the key space, reads see
 * any revision not yet compacted away, and compaction frees what no reader can ask for any more.
 */
package io.kvorum.server.mvcc;
