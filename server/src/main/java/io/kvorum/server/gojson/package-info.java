/**
 * Go's {@code encoding/json} text where etcd writes it and Kvorum must match it byte for byte (the
 * JSON gateway's error bodies, the member records of etcd's snapshot file).
 */
package io.kvorum.server.gojson;
