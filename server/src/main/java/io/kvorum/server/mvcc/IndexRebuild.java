package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.StorageException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The key index and the keys' leases rebuilt from the key bucket's records, fed in revision order:
 * what a store opening on a backend reads, and what a member receiving a backend from the leader
 * builds while the records arrive, so that installing it does not read the whole bucket again
 * ({@link KvStore#reload(IndexRebuild)}).
 */
public final class IndexRebuild {
  /** Built sorted as the records come, so the store takes it as its index as it is. */
  private final ConcurrentSkipListMap<ByteString, KeyIndex> keys = Index.newMap();
  private final Map<ByteString, Long> leases = new HashMap<>();
  private long lastMain = 1;
  private byte[] lastRevisionKey;
  /** Bytes of the records the index holds (see {@link Index#bytes}). */
  private long bytes;

  /** Adds the record stored under revision key {@code revisionKey}; keys must come in order. */
  public void add(byte[] revisionKey, ByteString record) {
    CodedInputStream in = record.newCodedInput();
    // The key-value's fields point into the record: only the user key of a new entry is copied.
    in.enableAliasing(true);
    add(revisionKey, in, record.size());
  }

  /** Like {@link #add(byte[], ByteString)} for a record in a buffer valid only during the call. */
  void add(byte[] revisionKey, java.nio.ByteBuffer record) {
    int size = record.remaining();
    CodedInputStream in = CodedInputStream.newInstance(record);
    // Aliased too: nothing that points into the buffer outlives this call (kept keys are copied).
    in.enableAliasing(true);
    add(revisionKey, in, size);
  }

  private void add(byte[] revisionKey, CodedInputStream in, int recordSize) {
    Revision rev = Revision.fromKey(revisionKey);
    if (lastRevisionKey != null && java.util.Arrays.compareUnsigned(lastRevisionKey, revisionKey) >= 0) {
      throw new StorageException("mvcc: key bucket records out of order at revision " + rev);
    }
    lastRevisionKey = revisionKey;
    KeyValue kv;
    try {
      kv = KeyValue.parseFrom(in);
    } catch (IOException e) {
      throw new StorageException("mvcc: cannot unmarshal the key-value at revision " + rev, e);
    }
    boolean tombstone = Revision.isTombstoneKey(revisionKey);
    // The parsed key points into the record: it serves the lookup, and only a new entry's key is
    // copied (what the maps keep must outlive the record).
    ByteString key = kv.getKey();
    KeyIndex ki = keys.get(key);
    long recordBytes = (long) revisionKey.length + recordSize;
    if (ki != null) {
      key = ki.key();
      if (!tombstone) {
        keys.put(key, ki.put(rev.main(), rev.sub(), recordBytes));
        bytes += recordBytes;
      } else if (!ki.isDeleted()) {
        keys.put(key, ki.tombstone(rev.main(), rev.sub(), recordBytes));
        bytes += recordBytes;
      }
    } else if (!tombstone) {
      key = ByteString.copyFrom(key.asReadOnlyByteBuffer());
      keys.put(key, KeyIndex.restored(key, kv.getCreateRevision(), rev.main(), rev.sub(), kv.getVersion(),
          recordBytes));
      bytes += recordBytes;
    }
    // Otherwise only the deletion of a generation whose writes were compacted away is left; the
    // unfinished compaction the store resumes removes it (and the lease map only drops the key).
    if (tombstone || kv.getLease() == 0) {
      leases.remove(key);
    } else {
      leases.put(key, kv.getLease());
    }
    lastMain = rev.main();
  }

  ConcurrentSkipListMap<ByteString, KeyIndex> keys() {
    return keys;
  }

  /** Bytes of the records the rebuilt index holds. */
  long bytes() {
    return bytes;
  }

  /** The live keys with a lease. */
  Map<ByteString, Long> leases() {
    return leases;
  }

  /** The main revision of the last record added; 1 if none. */
  long lastMain() {
    return lastMain;
  }
}
