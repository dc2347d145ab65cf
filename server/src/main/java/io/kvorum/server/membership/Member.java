package io.kvorum.server.membership;

import java.util.List;

/** One member of the cluster as every member sees it after applying the same log. */
public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean isLearner) {
  public Member {
    peerUrls = List.copyOf(peerUrls);
    clientUrls = List.copyOf(clientUrls);
  }

  /** As etcd's API and Kvorum's stored membership carry it. */
  public io.kvorum.proto.etcdserverpb.Member toProto() {
    return io.kvorum.proto.etcdserverpb.Member.newBuilder().setID(id).setName(name).addAllPeerURLs(peerUrls)
        .addAllClientURLs(clientUrls).setIsLearner(isLearner).build();
  }

  public static Member fromProto(io.kvorum.proto.etcdserverpb.Member m) {
    return new Member(m.getID(), m.getName(), m.getPeerURLsList(), m.getClientURLsList(), m.getIsLearner());
  }

  public Member withAttributes(String newName, List<String> newClientUrls) {
    return new Member(id, newName, peerUrls, newClientUrls, isLearner);
  }
}
