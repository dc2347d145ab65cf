/** Reading, never writing, an etcd 3.4 member's data dir: its WAL, .snap files, v2 membership and raft entries. */
package io.kvorum.server.etcddata;
