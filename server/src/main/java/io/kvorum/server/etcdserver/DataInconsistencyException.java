package io.kvorum.server.etcdserver;

import java.io.IOException;

/**
 * The initial corruption check found a peer whose history has the same compaction revision and
 * another hash: the member refuses to start. The message is etcd's, after its {@code etcdmain: }
 * prefix.
 */
public final class DataInconsistencyException extends IOException {
  private static final long serialVersionUID = 1L;

  DataInconsistencyException(long memberId) {
    super(String.format("%016x found data inconsistency with peers", memberId));
  }
}
