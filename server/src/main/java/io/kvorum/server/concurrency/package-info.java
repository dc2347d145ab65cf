/**
 * Elections and locks (etcd's {@code v3election} and {@code v3lock} services): etcd's client-side
 * recipes ({@code clientv3/concurrency}) run inside the member on its own keys, leases and watches,
 * on behalf of the client that asked.
 */
package io.kvorum.server.concurrency;
