package io.kvorum.server.mvcc;

import io.kvorum.proto.mvccpb.KeyValue;
import java.util.List;

/**
 * What a range read returned.
 *
 * @param kvs the key-values in key order (empty for a count-only read)
 * @param count how many keys the range holds at the revision read, whatever the limit
 * @param revision the store's revision when the read was served (etcd's header revision), not the
 *     revision read at
 * @param more true if the limit left keys out
 */
public record RangeResult(List<KeyValue> kvs, long count, long revision, boolean more) {
  public RangeResult {
    kvs = List.copyOf(kvs);
  }
}
