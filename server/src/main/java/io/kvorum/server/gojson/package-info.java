/**
 * Go's {@code encoding/json} where etcd's answers depend on it and Kvorum must match byte for
 * byte: how it writes text (the gateway's error bodies, the member records of etcd's snapshot
 * file) and how it reads and refuses JSON (the gateway's request bodies, with Go's error texts).
 */
package io.kvorum.server.gojson;
