/** The leader's automatic compaction (etcd's v3compactor): keep a period of history, or a number of revisions. */
package io.kvorum.server.compactor;
