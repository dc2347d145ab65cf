package io.kvorum.server.etcdserver;

import io.kvorum.server.membership.Member;
import java.util.List;

/** An applied MemberAdd: the added member and the membership after the change. */
public record MemberAdded(Member member, List<Member> members) {}
