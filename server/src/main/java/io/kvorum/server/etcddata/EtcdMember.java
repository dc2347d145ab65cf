package io.kvorum.server.etcddata;

import java.util.List;

/**
 * One member of an etcd cluster as etcd 3.4 records it: its raft attributes (peer URLs, learner)
 * and the attributes it publishes once started (name, client URLs; empty until then).
 */
public record EtcdMember(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean isLearner) {
  public EtcdMember {
    peerUrls = List.copyOf(peerUrls);
    clientUrls = List.copyOf(clientUrls);
  }

  EtcdMember withRaftAttributes(List<String> newPeerUrls, boolean learner) {
    return new EtcdMember(id, name, newPeerUrls, clientUrls, learner);
  }

  EtcdMember withAttributes(String newName, List<String> newClientUrls) {
    return new EtcdMember(id, newName, peerUrls, newClientUrls, isLearner);
  }
}
