package io.kvorum.server.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.mvcc.CompactedException;
import io.kvorum.server.mvcc.FutureRevisionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/** Translates failures into the gRPC status etcd would send, once, at the edge. */
final class GrpcErrors {
  private static final System.Logger LOG = System.getLogger(GrpcErrors.class.getName());

  private GrpcErrors() {}

  /** etcd's gRPC status for {@code e}. */
  static Status status(EtcdError e) {
    return Status.fromCodeValue(e.code().ordinal()).withDescription(e.message());
  }

  /**
   * The status etcd's election and lock services send for {@code err}: they call the member
   * through an in-process client, which turns etcd's errors back into plain Go errors, and return
   * those as they are, so gRPC sends every one as UNKNOWN with its text.
   */
  static StatusRuntimeException unmapped(Throwable err) {
    Status s = toStatus(err).getStatus();
    return Status.UNKNOWN.withDescription(s.getDescription()).asRuntimeException();
  }

  static StatusRuntimeException toStatus(Throwable err) {
    Throwable t = err;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException s) {
      return s;
    }
    EtcdError e = null;
    if (t instanceof EtcdException ee) {
      e = ee.error();
    } else if (t instanceof CompactedException) {
      e = EtcdError.COMPACTED;
    } else if (t instanceof FutureRevisionException) {
      e = EtcdError.FUTURE_REV;
    }
    if (t instanceof RejectedExecutionException) {
      // A pool that no longer takes work: the member is stopping.
      e = EtcdError.STOPPED;
    }
    if (e != null) {
      return status(e).asRuntimeException();
    }
    // Never a Java exception's text on the wire: etcd's code for the unexpected, a fixed text, and
    // the cause in the member's log.
    LOG.log(System.Logger.Level.ERROR, "unexpected failure answering a request", t);
    return status(EtcdError.INTERNAL).asRuntimeException();
  }
}
