/**
 * etcd 3.4's snapshot file (its backend: a bbolt database with etcd's buckets, then the SHA-256 of
 * those bytes), written from a Kvorum backend and read into one.
 */
package io.kvorum.server.snapshot;
