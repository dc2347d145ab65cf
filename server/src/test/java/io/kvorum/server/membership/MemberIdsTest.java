package io.kvorum.server.membership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemberIdsTest {
  /*
   * Pinned from real etcd 3.4.23:
   *   etcd --name infra1 --listen-peer-urls http://127.0.0.1:32380 \
   *     --initial-advertise-peer-urls http://127.0.0.1:32380 \
   *     --initial-cluster infra1=http://127.0.0.1:32380 --initial-cluster-token tok ...
   *   etcdctl member list -w json
   *   -> cluster_id 14765410957201216590, member ID 14590032085621120027
   */
  @Test
  void memberIdAndClusterId_singleMember_matchRealEtcd() {
    long member = MemberIds.memberId(List.of("http://127.0.0.1:32380"), "tok");
    assertThat(Long.toUnsignedString(member)).isEqualTo("14590032085621120027");
    assertThat(Long.toUnsignedString(MemberIds.clusterId(List.of(member)))).isEqualTo("14765410957201216590");
  }

  @Test
  void memberId_peerUrlOrder_doesNotMatter() {
    assertThat(MemberIds.memberId(List.of("http://b:2", "http://a:1"), "t"))
        .isEqualTo(MemberIds.memberId(List.of("http://a:1", "http://b:2"), "t"));
  }
}
