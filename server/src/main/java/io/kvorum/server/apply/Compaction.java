package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.CompactionResponse;
import java.util.concurrent.CompletableFuture;

/**
 * An applied compaction: the response, and the physical removal of the compacted revisions, which
 * goes on in the background (a client asking for {@code physical} waits for it).
 */
public record Compaction(CompactionResponse response, CompletableFuture<Void> physical) {}
