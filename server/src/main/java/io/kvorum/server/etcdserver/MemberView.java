package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.config.ServerConfig;

/** What every API service may ask about the member it runs on. */
public interface MemberView {
  long memberId();

  long clusterId();

  /** The leader this member knows, 0 while it knows none. */
  long leader();

  long term();

  /** A response header at the current revision. */
  ResponseHeader header();

  /** Whether this member is a learner in its applied membership. */
  boolean isLearner();

  ServerConfig config();

  /** The member's clock (deadlines of requests are on it). */
  Clock clock();
}
