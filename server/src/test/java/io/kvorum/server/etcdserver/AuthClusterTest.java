package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.testing.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The auth store is replicated state: identical on every member once they applied the same
 * entries — also on a restarted member, on a learner whose backend came from the leader's
 * snapshot, and after that learner's promotion — and a simple token issued by one member is valid
 * on the others.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AuthClusterTest {
  private static final long TIMEOUT_SECONDS = 20;

  @TempDir Path dir;
  LocalCluster cluster;

  @AfterEach
  void stop() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** Everything the auth store holds, as text. */
  private static String state(EtcdServer s) {
    AuthStore a = s.authStore();
    StringBuilder out = new StringBuilder("enabled=" + a.isEnabled() + " revision=" + a.revision());
    for (String u : a.userList()) {
      out.append(" user ").append(u).append(a.userGet(u));
    }
    for (String r : a.roleList()) {
      out.append(" role ").append(r).append(a.roleGet(r).stream()
          .map(p -> p.getPermType() + ":" + p.getKey().toStringUtf8() + "-" + p.getRangeEnd().toStringUtf8()).toList());
    }
    return out.toString();
  }

  /**
   * Every member reaches the leader's auth state. (Waiting for applied indexes is not enough: a
   * proposer's waiter completes while its entry is applied, a moment before the member's applied
   * index moves past it.)
   */
  private void assertSameEverywhere(EtcdServer leader) {
    String want = state(leader);
    try {
      LocalCluster.await("every member holds the leader's auth state",
          () -> cluster.members().values().stream().allMatch(m -> state(m).equals(want)));
    } catch (AssertionError e) {
      for (EtcdServer m : cluster.members().values()) {
        assertThat(state(m)).as("auth state of member %x", m.memberId()).isEqualTo(want);
      }
      throw e;
    }
  }

  @Test
  void authState_sameOnEveryMember_afterRestartSnapshotAndPromotion() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> {
      b.snapshotCount = 50;
      b.bcryptCost = 4;
    });
    EtcdServer leader = cluster.leader(s -> true);
    AuthServer auth = leader.auth();
    RequestContext anyone = RequestContext.of("test");
    get(auth.userAdd(anyone, AuthUserAddRequest.newBuilder().setName("root").setPassword("rootpw").build()));
    get(auth.roleAdd(anyone, AuthRoleAddRequest.newBuilder().setName("root").build()));
    get(auth.userGrantRole(anyone, AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root").build()));
    get(auth.userAdd(anyone, AuthUserAddRequest.newBuilder().setName("alice").setPassword("alicepw").build()));
    get(auth.roleAdd(anyone, AuthRoleAddRequest.newBuilder().setName("app").build()));
    get(auth.roleGrantPermission(anyone, AuthRoleGrantPermissionRequest.newBuilder().setName("app").setPerm(
        Permission.newBuilder().setKey(b("app/")).setRangeEnd(b("app0")).setPermType(Permission.Type.READWRITE))
        .build()));
    get(auth.userGrantRole(anyone, AuthUserGrantRoleRequest.newBuilder().setUser("alice").setRole("app").build()));
    get(auth.authEnable(anyone.withAuth("root", leader.authStore().revision())));
    assertSameEverywhere(leader);

    // A simple token from the leader names alice on every member.
    String token = get(auth.authenticate(anyone, AuthenticateRequest.newBuilder().setName("alice")
        .setPassword("alicepw").build())).getToken();
    for (EtcdServer m : cluster.members().values()) {
      RequestContext ctx = get(m.auth().identify(anyone, new Credentials(token, null, false)));
      assertThat(ctx.user()).isEqualTo("alice");
    }

    // Enough writes that the newest snapshot is far past the auth entries.
    RequestContext root = anyone.withAuth("root", leader.authStore().revision());
    for (int i = 0; i < 200; i++) {
      get(leader.kv().put(root, PutRequest.newBuilder().setKey(b("app/" + (i % 10))).setValue(b("v" + i)).build()));
    }

    // A restarted follower reads its auth store back from its backend.
    EtcdServer follower = cluster.other(leader);
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == follower)
        .findFirst().orElseThrow().getKey();
    cluster.stop(follower);
    get(auth.roleAdd(root, AuthRoleAddRequest.newBuilder().setName("while-down").build()));
    cluster.restart(name);
    assertSameEverywhere(leader);

    // A learner starts from a copy of the leader's backend.
    URI url = URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    EtcdServer lead = cluster.leader(s -> true);
    RequestContext rootNow = anyone.withAuth("root", lead.authStore().revision());
    cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL, () -> lead.memberAdd(rootNow, List.of(url.toString()), true));
    EtcdServer learner = cluster.join("m4", url, b -> {
      b.snapshotCount = 50;
      b.bcryptCost = 4;
    });
    LocalCluster.await("the learner catches up", () -> learner.isLearner()
        && learner.appliedIndex() >= lead.appliedIndex());
    assertThat(learner.snapshotIndex()).as("caught up from a snapshot").isGreaterThanOrEqualTo(50);
    assertSameEverywhere(lead);

    cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL, () -> lead.memberPromote(rootNow, learner.memberId()));
    LocalCluster.await("the learner is promoted", () -> !learner.isLearner());
    get(lead.auth().roleAdd(rootNow, AuthRoleAddRequest.newBuilder().setName("after-promotion").build()));
    assertSameEverywhere(lead);
  }
}
