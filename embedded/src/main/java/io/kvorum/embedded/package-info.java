/**
 * Kvorum members and clusters started in-process, for JVM programs and tests that want an etcd v3
 * endpoint without a separate process: {@link io.kvorum.embedded.Kvorum#builder()} to configure,
 * {@link io.kvorum.embedded.KvorumCluster} to run. Clients reach the members over the etcd v3 gRPC
 * API on loopback, as they reach etcd.
 */
package io.kvorum.embedded;
