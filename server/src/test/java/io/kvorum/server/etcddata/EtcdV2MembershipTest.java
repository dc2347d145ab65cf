package io.kvorum.server.etcddata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EtcdV2MembershipTest {
  private static final Object[] A = {"8e9e05c52164694d", "http://127.0.0.1:2380", "a", false};
  private static final Object[] B = {"fd422379fda50e48", "http://127.0.0.1:2381", null, true};

  @Test
  void parse_storeJson_readsMembersRemovedAndVersion() throws Exception {
    V2Membership m = V2Membership.parse(SnapFixture.utf8(SnapFixture.storeJson("3.4.0", new String[] {"2a"}, A, B)));
    EtcdMember a = m.members().get(0x8e9e05c52164694dL);
    assertThat(a.name()).isEqualTo("a");
    assertThat(a.peerUrls()).containsExactly("http://127.0.0.1:2380");
    assertThat(a.clientUrls()).containsExactly("http://c/a");
    assertThat(a.isLearner()).isFalse();
    EtcdMember b = m.members().get(0xfd422379fda50e48L);
    assertThat(b.name()).isEmpty();
    assertThat(b.isLearner()).isTrue();
    assertThat(m.removed()).containsExactly(0x2aL);
    assertThat(m.clusterVersion()).contains("3.4.0");
    assertThat(m.voters()).containsExactly(0x8e9e05c52164694dL);
  }

  @Test
  void parse_noClusterVersion_isEmpty() throws Exception {
    V2Membership m = V2Membership.parse(SnapFixture.utf8(SnapFixture.storeJson(null, new String[0], A)));
    assertThat(m.clusterVersion()).isEmpty();
    assertThat(m.removed()).isEmpty();
  }

  @Test
  void parse_notJson_isRefused() {
    assertThatThrownBy(() -> V2Membership.parse(SnapFixture.utf8("{\"Root\":")))
        .isInstanceOf(EtcdDataException.class);
  }

  @Test
  void withAdded_removedOrExistingIdOrTakenPeerUrl_isIgnored() {
    EtcdMember a = new EtcdMember(1, "", List.of("http://p1"), List.of(), false);
    V2Membership m = V2Membership.empty().withAdded(a).withRemoved(1);
    assertThat(m.withAdded(a)).isEqualTo(m);
    V2Membership two = V2Membership.empty().withAdded(a);
    assertThat(two.withAdded(new EtcdMember(2, "", List.of("http://p1"), List.of(), false))).isEqualTo(two);
    assertThat(two.withAdded(a)).isEqualTo(two);
  }

  @Test
  void withPromoted_learner_becomesVoter() {
    V2Membership m = V2Membership.empty().withAdded(new EtcdMember(3, "", List.of("http://p3"), List.of(), true));
    assertThat(m.voters()).isEmpty();
    assertThat(m.withPromoted(3).voters()).containsExactly(3L);
  }

  @Test
  void withPeerUrlsAndAttributes_member_replacesThem() {
    V2Membership m = V2Membership.empty().withAdded(new EtcdMember(3, "", List.of("http://p3"), List.of(), false))
        .withPeerUrls(3, List.of("http://q3")).withAttributes(3, "c", List.of("http://c3")).withClusterVersion("3.4.0");
    assertThat(m.members().get(3L)).isEqualTo(new EtcdMember(3, "c", List.of("http://q3"), List.of("http://c3"), false));
    assertThat(m.clusterVersion()).isEqualTo(Optional.of("3.4.0"));
    assertThat(m.withAttributes(9, "x", List.of())).isEqualTo(m);
  }
}
