/**
 * Moving etcd 3.4's data into Kvorum: a member's data dir (what {@code etcdctl snapshot restore}
 * writes, or a live member's) or a snapshot file becomes a Kvorum member's data dir.
 */
package io.kvorum.server.migrate;
