package io.kvorum.server.membership;

import java.util.List;

/** One member of the cluster as every member sees it after applying the same log. */
public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean isLearner) {
  public Member {
    peerUrls = List.copyOf(peerUrls);
    clientUrls = List.copyOf(clientUrls);
  }

  public Member withAttributes(String newName, List<String> newClientUrls) {
    return new Member(id, newName, peerUrls, newClientUrls, isLearner);
  }
}
