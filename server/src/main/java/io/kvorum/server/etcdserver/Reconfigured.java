package io.kvorum.server.etcdserver;

import io.kvorum.server.membership.Member;
import java.util.List;

/** An applied membership change: the members afterwards. */
record Reconfigured(List<Member> members) {}
