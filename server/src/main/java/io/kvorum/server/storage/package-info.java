/**
 * The backend: one RocksDB database with a column family per bucket, atomic write batches and
 * point-in-time snapshot reads; the only package that imports {@code org.rocksdb}.
 */
package io.kvorum.server.storage;
