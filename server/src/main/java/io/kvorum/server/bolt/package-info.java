/** bbolt's database file (etcd 3.4's backend and snapshot format), written in one pass and read, in pure Java. */
package io.kvorum.server.bolt;
