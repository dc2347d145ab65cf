package io.kvorum.server.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.LeaderKey;
import io.kvorum.proto.v3electionpb.LeaderRequest;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimRequest;
import io.kvorum.proto.v3electionpb.ResignRequest;
import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.LockResponse;
import io.kvorum.proto.v3lockpb.UnlockRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Elections and locks on real members, called as the API edge calls them: who leads, who waits
 * and for what, Proclaim and Resign by leaders and others, lease expiry handing leadership on (on
 * the cluster's fake clock), Observe, cancellation releasing the wait, and a raft leader change
 * under waiting calls. A call is known to be waiting when its watch is open in the hub: from then
 * on only a deletion can complete it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ElectionsTest {
  private static final Caller CALLER = Caller.of(RequestContext.of("test"));
  private static final long WAIT_SECONDS = 20;

  @TempDir Path dir;
  private LocalCluster cluster;
  private EtcdServer member;
  private Elections elections;
  private Locks locks;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Starts {@code size} members and serves elections and locks from the leader (or {@code follower}). */
  private void start(int size) throws Exception {
    cluster = LocalCluster.start(dir, size, b -> { });
    serveFrom(cluster.leader(s -> s.lessor().isPrimary()));
  }

  private void serveFrom(EtcdServer m) {
    member = m;
    elections = new Elections(m.kv(), m.leases(), m.auth(), m.watchHub());
    locks = new Locks(m.kv(), m.leases(), m.auth(), m.watchHub());
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private long lease(long id, long ttlSeconds) throws Exception {
    return get(member.leases().leaseGrant(RequestContext.of("test"),
        LeaseGrantRequest.newBuilder().setID(id).setTTL(ttlSeconds).build())).getID();
  }

  private CompletableFuture<CampaignResponse> campaign(String name, long lease, String value) {
    return elections.campaign(CALLER, CampaignRequest.newBuilder().setName(b(name)).setLease(lease)
        .setValue(b(value)).build());
  }

  private CompletableFuture<LockResponse> lock(String name, long lease) {
    return locks.lock(CALLER, LockRequest.newBuilder().setName(b(name)).setLease(lease).build());
  }

  private LeaderResponse leader(String name) throws Exception {
    return get(elections.leader(CALLER, LeaderRequest.newBuilder().setName(b(name)).build()));
  }

  private List<KeyValue> keys(EtcdServer m, String prefix) throws Exception {
    RangeResponse r = get(m.kv().range(RequestContext.of("test"), RangeRequest.newBuilder().setKey(b(prefix))
        .setRangeEnd(ElectionKeys.prefixEnd(b(prefix))).build()));
    return r.getKvsList();
  }

  /** Waits until {@code watchers} watches are open in {@code m}'s hub, then checks {@code f} still waits. */
  private static void awaitWaiting(EtcdServer m, int watchers, CompletableFuture<?>... fs) {
    LocalCluster.await(watchers + " waits watching", () -> m.watchHub().watcherCount() == watchers);
    for (CompletableFuture<?> f : fs) {
      assertThat(f).as("still waiting").isNotDone();
    }
  }

  private static EtcdError errorOf(CompletableFuture<?> f) {
    Throwable t = null;
    try {
      f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      t = e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(t).isInstanceOf(EtcdException.class);
    return ((EtcdException) t).error();
  }

  @Test
  void campaign_blocksUntilEveryOlderCandidateIsGone_andTheOldestLeads() throws Exception {
    start(1);
    long a = lease(0xa, 100);
    long bLease = lease(0xb, 100);
    long c = lease(0xc, 100);
    CampaignResponse first = get(campaign("e", a, "va"));
    assertThat(first.getLeader().getKey()).isEqualTo(b("e/a"));
    assertThat(first.getLeader().getName()).isEqualTo(b("e"));
    assertThat(first.getLeader().getLease()).isEqualTo(a);
    assertThat(first.getLeader().getRev()).isEqualTo(first.getHeader().getRevision());

    CompletableFuture<CampaignResponse> second = campaign("e", bLease, "vb");
    awaitWaiting(member, 1, second);
    CompletableFuture<CampaignResponse> third = campaign("e", c, "vc");
    awaitWaiting(member, 2, second, third);
    assertThat(leader("e").getKv().getKey()).isEqualTo(b("e/a"));
    assertThat(leader("e").getKv().getValue()).isEqualTo(b("va"));

    // The third waits for the second (the newest key older than its own), not for the leader.
    get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(first.getLeader()).build()));
    CampaignResponse won = get(second);
    assertThat(won.getLeader().getKey()).isEqualTo(b("e/b"));
    assertThat(won.getLeader().getRev()).as("its key's create revision").isGreaterThan(first.getLeader().getRev());
    assertThat(won.getHeader().getRevision()).as("the campaign txn's header, as etcd answers")
        .isEqualTo(won.getLeader().getRev());
    assertThat(leader("e").getKv().getKey()).isEqualTo(b("e/b"));
    awaitWaiting(member, 1, third);
    get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(won.getLeader()).build()));
    assertThat(get(third).getLeader().getKey()).isEqualTo(b("e/c"));
    awaitWaiting(member, 0);
  }

  @Test
  void leader_proclaim_resign_answerAsEtcdsRecipesDo() throws Exception {
    start(1);
    assertThat(errorOf(elections.leader(CALLER, LeaderRequest.newBuilder().setName(b("p")).build())))
        .isEqualTo(EtcdError.ELECTION_NO_LEADER);
    long a = lease(0x1a, 100);
    LeaderKey l = get(campaign("p", a, "v1")).getLeader();
    // Another election's keys are not this one's: "p" is not a prefix of "px/...".
    get(member.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(b("px/0")).setValue(b("x")).build()));
    assertThat(leader("p").getKv().getKey()).isEqualTo(b("p/1a"));

    long proclaimed = get(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setLeader(l).setValue(b("v2")).build()))
        .getHeader().getRevision();
    KeyValue kv = leader("p").getKv();
    assertThat(kv.getValue()).isEqualTo(b("v2"));
    assertThat(kv.getModRevision()).isEqualTo(proclaimed);
    assertThat(kv.getLease()).isEqualTo(a);

    LeaderKey stale = l.toBuilder().setRev(l.getRev() + 100).build();
    assertThat(errorOf(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setLeader(stale).setValue(b("x")).build())))
        .isEqualTo(EtcdError.ELECTION_NOT_LEADER);
    assertThat(errorOf(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setValue(b("x")).build())))
        .isEqualTo(EtcdError.ELECTION_MISSING_LEADER_KEY);
    assertThat(errorOf(elections.resign(CALLER, ResignRequest.getDefaultInstance())))
        .isEqualTo(EtcdError.ELECTION_MISSING_LEADER_KEY);
    assertThat(errorOf(elections.proclaim(CALLER, ProclaimRequest.newBuilder()
        .setLeader(LeaderKey.newBuilder().setLease(a).setRev(1)).build()))).isEqualTo(EtcdError.EMPTY_KEY);

    // Resigning with a stale revision deletes nothing and still answers.
    get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(stale).build()));
    assertThat(leader("p").getKv().getKey()).isEqualTo(b("p/1a"));
    get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(l).build()));
    assertThat(errorOf(elections.leader(CALLER, LeaderRequest.newBuilder().setName(b("p")).build())))
        .isEqualTo(EtcdError.ELECTION_NO_LEADER);
    assertThat(errorOf(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setLeader(l).setValue(b("x")).build())))
        .as("a resigned leader").isEqualTo(EtcdError.ELECTION_NOT_LEADER);
  }

  @Test
  void campaign_again_withTheSameLease_proclaimsTheNewValue_andKeepsItsRevision() throws Exception {
    start(1);
    long a = lease(0x2a, 100);
    CampaignResponse first = get(campaign("s", a, "one"));
    CampaignResponse again = get(campaign("s", a, "two"));
    assertThat(again.getLeader()).isEqualTo(first.getLeader());
    KeyValue kv = leader("s").getKv();
    assertThat(kv.getValue()).isEqualTo(b("two"));
    assertThat(again.getHeader().getRevision()).as("the header of the txn that found the key, before the proclaim")
        .isEqualTo(kv.getModRevision() - 1);
  }

  @Test
  void campaignAndLock_withLeaseZero_getANewSixtySecondLease() throws Exception {
    start(1);
    CampaignResponse c = get(campaign("z", 0, "v"));
    long lease = c.getLeader().getLease();
    assertThat(lease).isPositive();
    assertThat(c.getLeader().getKey()).isEqualTo(b("z/" + Long.toHexString(lease)));
    assertThat(member.lessor().record(lease)[0]).as("granted TTL").isEqualTo(Elections.SESSION_TTL_SECONDS);
    LockResponse l = get(lock("zl", 0));
    assertThat(l.getKey().toStringUtf8()).startsWith("zl/");
    assertThat(member.leases().leaseLeases(RequestContext.of("test")).getLeasesCount()).isEqualTo(2);
    assertThat(errorOf(campaign("z", 12345, "v"))).isEqualTo(EtcdError.LEASE_NOT_FOUND);
    assertThat(errorOf(lock("zl", -5))).isEqualTo(EtcdError.LEASE_NOT_FOUND);
    assertThat(ElectionKeys.hex(-5)).isEqualTo("-5");
    assertThat(ElectionKeys.hex(Long.MIN_VALUE)).isEqualTo("-8000000000000000");
  }

  @Test
  void leaseExpiry_endsTheLeadership_andTheNextCandidateWins() throws Exception {
    start(1);
    cluster.pump().hold();
    long shortLease = lease(0x3a, 5);
    long longLease = lease(0x3b, 100);
    get(campaign("x", shortLease, "a"));
    CompletableFuture<CampaignResponse> next = campaign("x", longLease, "b");
    CompletableFuture<LockResponse> heldLock = lock("xl", shortLease);
    get(heldLock);
    CompletableFuture<LockResponse> nextLock = lock("xl", longLease);
    awaitWaiting(member, 2, next, nextLock);

    cluster.clock().jump(Duration.ofSeconds(4));
    get(member.leaseDutiesNow());
    assertThat(member.lessor().exists(shortLease)).as("4 s into 5").isTrue();
    assertThat(next).isNotDone();
    cluster.clock().jump(Duration.ofSeconds(2));
    get(member.leaseDutiesNow());
    assertThat(get(next).getLeader().getKey()).isEqualTo(b("x/3b"));
    assertThat(get(nextLock).getKey()).isEqualTo(b("xl/3b"));
    assertThat(leader("x").getKv().getKey()).isEqualTo(b("x/3b"));
  }

  @Test
  void lock_blocksUntilUnlocked_isReenteredWithTheSameLease_andUnlockDeletesAnyKey() throws Exception {
    start(1);
    long a = lease(0x4a, 100);
    long bLease = lease(0x4b, 100);
    LockResponse held = get(lock("l", a));
    assertThat(held.getKey()).isEqualTo(b("l/4a"));
    assertThat(held.getHeader().getRevision()).isEqualTo(keys(member, "l/").get(0).getCreateRevision());
    LockResponse again = get(lock("l", a));
    assertThat(again.getKey()).isEqualTo(held.getKey());
    assertThat(again.getHeader().getRevision()).as("nothing written").isEqualTo(held.getHeader().getRevision());

    CompletableFuture<LockResponse> waiting = lock("l", bLease);
    awaitWaiting(member, 1, waiting);
    assertThat(keys(member, "l/")).extracting(KeyValue::getKey).containsExactly(b("l/4a"), b("l/4b"));
    long unlocked = get(locks.unlock(CALLER, UnlockRequest.newBuilder().setKey(held.getKey()).build()))
        .getHeader().getRevision();
    LockResponse got = get(waiting);
    assertThat(got.getKey()).isEqualTo(b("l/4b"));
    assertThat(got.getHeader().getRevision()).as("the header of the wait's last look").isEqualTo(unlocked);
    assertThat(get(locks.unlock(CALLER, UnlockRequest.newBuilder().setKey(b("nothing")).build())).getHeader()
        .getRevision()).isEqualTo(unlocked);
    assertThat(errorOf(locks.unlock(CALLER, UnlockRequest.getDefaultInstance()))).isEqualTo(EtcdError.EMPTY_KEY);
  }

  @Test
  void cancellingAWait_closesItsWatch_andResignsOrUnlocks() throws Exception {
    start(1);
    long a = lease(0x5a, 100);
    long bLease = lease(0x5b, 100);
    get(campaign("c", a, "a"));
    get(lock("cl", a));
    CompletableFuture<CampaignResponse> campaign = campaign("c", bLease, "b");
    CompletableFuture<LockResponse> lock = lock("cl", bLease);
    awaitWaiting(member, 2, campaign, lock);
    assertThat(keys(member, "c/")).hasSize(2);
    assertThat(keys(member, "cl/")).hasSize(2);

    campaign.cancel(false);
    lock.cancel(false);
    LocalCluster.await("the waits' watches closed", () -> member.watchHub().watcherCount() == 0);
    LocalCluster.await("the waiters' keys deleted", () -> {
      try {
        return keys(member, "c/").size() == 1 && keys(member, "cl/").size() == 1;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertThat(keys(member, "c/").get(0).getKey()).isEqualTo(b("c/5a"));
    assertThat(keys(member, "cl/").get(0).getKey()).isEqualTo(b("cl/5a"));
  }

  /** Collects an observation's responses with a drain that never runs twice at once, as the edge's does. */
  private static final class Observed {
    final BlockingQueue<LeaderResponse> got = new LinkedBlockingQueue<>();
    final AtomicInteger drains = new AtomicInteger();
    volatile Observation observation;

    void drain() {
      if (drains.getAndIncrement() != 0) {
        return;
      }
      do {
        Observation o = observation;
        for (LeaderResponse r = o == null ? null : o.poll(); r != null; r = o.poll()) {
          got.add(r);
        }
      } while (drains.decrementAndGet() != 0);
    }

    LeaderResponse next() throws InterruptedException {
      LeaderResponse r = got.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(r).as("an observed leader within " + WAIT_SECONDS + " s").isNotNull();
      return r;
    }
  }

  @Test
  void observe_sendsTheLeader_eachNewValue_andTheNextLeader() throws Exception {
    start(1);
    long a = lease(0x6a, 100);
    long bLease = lease(0x6b, 100);
    Observed o = observe(CALLER, "o");
    awaitWaiting(member, 1);
    assertThat(o.got).as("no leader yet").isEmpty();

    CampaignResponse first = get(campaign("o", a, "a1"));
    LeaderResponse r = o.next();
    assertThat(r.getKv().getKey()).isEqualTo(b("o/6a"));
    assertThat(r.getKv().getValue()).isEqualTo(b("a1"));
    assertThat(r.getHeader().getRevision()).isEqualTo(first.getLeader().getRev());

    long proclaimed = get(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setLeader(first.getLeader())
        .setValue(b("a2")).build())).getHeader().getRevision();
    r = o.next();
    assertThat(r.getKv().getValue()).isEqualTo(b("a2"));
    assertThat(r.getHeader().getRevision()).isEqualTo(proclaimed);

    CompletableFuture<CampaignResponse> second = campaign("o", bLease, "b1");
    awaitWaiting(member, 2, second);
    assertThat(o.got).as("a candidate is not the leader").isEmpty();
    get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(first.getLeader()).build()));
    get(second);
    r = o.next();
    assertThat(r.getKv().getKey()).isEqualTo(b("o/6b"));
    assertThat(r.getKv().getValue()).isEqualTo(b("b1"));

    o.observation.close();
    LocalCluster.await("the observation's watch closed", () -> member.watchHub().watcherCount() == 0);
    assertThat(o.observation.finished()).isTrue();
  }

  /**
   * A client that reads nothing while the value changes 300 times: the observation holds at most
   * {@link Observation#READY_MAX} answers and leaves the rest in the hub (whose stream falls back to
   * history when full); once read, every value arrives, in order.
   */
  @Test
  void observe_aClientThatDoesNotRead_getsEveryValueInOrder_onceItReads() throws Exception {
    start(1);
    long a = lease(0x7a, 100);
    LeaderKey l = get(campaign("slow", a, "v0")).getLeader();
    Observation o = elections.observe(CALLER, LeaderRequest.newBuilder().setName(b("slow")).build(), () -> { });
    LocalCluster.await("the observation follows the leader", () -> member.watchHub().watcherCount() == 1);
    int changes = 300;
    for (int i = 1; i <= changes; i++) {
      get(elections.proclaim(CALLER, ProclaimRequest.newBuilder().setLeader(l).setValue(b("v" + i)).build()));
    }
    List<String> values = new java.util.ArrayList<>();
    LocalCluster.await("every value read", () -> {
      for (LeaderResponse r = o.poll(); r != null; r = o.poll()) {
        values.add(r.getKv().getValue().toStringUtf8());
      }
      return values.size() == changes + 1;
    });
    for (int i = 0; i <= changes; i++) {
      assertThat(values.get(i)).isEqualTo("v" + i);
    }
    assertThat(member.watchHub().victimCount()).as("the hub's stream filled up meanwhile").isPositive();
    o.close();
  }

  private Observed observe(Caller caller, String name) {
    Observed o = new Observed();
    o.observation = elections.observe(caller, LeaderRequest.newBuilder().setName(b(name)).build(), o::drain);
    o.drain();
    return o;
  }

  /**
   * With auth on, every call the recipes make runs as the caller, identified afresh each time (a
   * wait that outlives an auth change goes on); the cleanup after a cancelled wait runs without
   * credentials, as etcd's does, so it is refused and the key stays until its lease ends.
   */
  @Test
  void withAuth_callsRunAsTheCaller_andACancelledWaitLeavesItsKey() throws Exception {
    cluster = LocalCluster.start(dir, 1, b -> b.bcryptCost = 4);
    serveFrom(cluster.leader(s -> s.lessor().isPrimary()));
    long a = lease(0x9a, 100);
    long bLease = lease(0x9b, 100);
    long c = lease(0x9c, 100);
    AuthServer auth = member.auth();
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
    get(auth.authEnable(anyone.withAuth("root", member.authStore().revision())));
    String token = get(auth.authenticate(anyone, AuthenticateRequest.newBuilder().setName("alice")
        .setPassword("alicepw").build())).getToken();
    Caller alice = new Caller(anyone, new Credentials(token, null, false));

    LeaderKey first = get(elections.campaign(alice, CampaignRequest.newBuilder().setName(b("app/e")).setLease(a)
        .setValue(b("a")).build())).getLeader();
    CompletableFuture<CampaignResponse> second = elections.campaign(alice, CampaignRequest.newBuilder()
        .setName(b("app/e")).setLease(bLease).setValue(b("b")).build());
    CompletableFuture<CampaignResponse> third = elections.campaign(alice, CampaignRequest.newBuilder()
        .setName(b("app/e")).setLease(c).setValue(b("c")).build());
    awaitWaiting(member, 2, second, third);
    // The auth store moves on while they wait.
    get(auth.roleAdd(anyone.withAuth("root", member.authStore().revision()),
        AuthRoleAddRequest.newBuilder().setName("other").build()));
    third.cancel(false);
    LocalCluster.await("the cancelled wait's watch closed", () -> member.watchHub().watcherCount() == 1);
    get(elections.resign(alice, ResignRequest.newBuilder().setLeader(first).build()));
    assertThat(get(second).getLeader().getKey()).isEqualTo(b("app/e/9b"));
    RequestContext root = anyone.withAuth("root", member.authStore().revision());
    assertThat(get(member.kv().range(root, RangeRequest.newBuilder().setKey(b("app/e/9c")).build())).getCount())
        .as("the cancelled candidate's key, its resign refused without credentials").isEqualTo(1);

    assertThat(errorOf(elections.campaign(alice, CampaignRequest.newBuilder().setName(b("secret")).setLease(a)
        .build()))).isEqualTo(EtcdError.PERMISSION_DENIED);
    assertThat(errorOf(elections.leader(CALLER, LeaderRequest.newBuilder().setName(b("app/e")).build())))
        .isEqualTo(EtcdError.USER_EMPTY);
    assertThat(errorOf(elections.leader(new Caller(anyone, new Credentials("bogus", null, false)),
        LeaderRequest.newBuilder().setName(b("app/e")).build()))).isEqualTo(EtcdError.INVALID_AUTH_TOKEN);
    assertThat(leaderAs(alice, "app/e").getKv().getKey()).isEqualTo(b("app/e/9b"));

    // An observation whose look is refused ends at once, with nothing sent (etcd ends the stream OK).
    Observed refused = observe(CALLER, "app/e");
    LocalCluster.await("the refused observation ends", refused.observation::finished);
    assertThat(refused.got).isEmpty();
    Observed allowed = observe(alice, "app/e");
    assertThat(allowed.next().getKv().getKey()).isEqualTo(b("app/e/9b"));
    allowed.observation.close();
  }

  private LeaderResponse leaderAs(Caller caller, String name) throws Exception {
    return get(elections.leader(caller, LeaderRequest.newBuilder().setName(b(name)).build()));
  }

  @Test
  void raftLeaderChange_underAWaitingCampaignAndLock_bothCompleteAfterwards() throws Exception {
    cluster = LocalCluster.start(dir, 3, b -> { });
    EtcdServer raftLeader = cluster.leader(s -> s.lessor().isPrimary());
    EtcdServer follower = cluster.other(raftLeader);
    serveFrom(follower);
    long a = lease(0x8a, 300);
    long bLease = lease(0x8b, 300);
    CampaignResponse first = get(campaign("r", a, "a"));
    LockResponse held = get(lock("rl", a));
    CompletableFuture<CampaignResponse> campaign = campaign("r", bLease, "b");
    CompletableFuture<LockResponse> lock = lock("rl", bLease);
    awaitWaiting(follower, 2, campaign, lock);

    cluster.stop(raftLeader);
    EtcdServer next = cluster.leader(s -> true);
    assertThat(next).isNotSameAs(raftLeader);
    assertThat(campaign).isNotDone();
    assertThat(lock).isNotDone();
    LocalCluster.until("the resign goes through the new leader",
        () -> get(elections.resign(CALLER, ResignRequest.newBuilder().setLeader(first.getLeader()).build())),
        t -> t instanceof java.util.concurrent.TimeoutException || t instanceof EtcdException);
    LocalCluster.until("the unlock goes through the new leader",
        () -> get(locks.unlock(CALLER, UnlockRequest.newBuilder().setKey(held.getKey()).build())),
        t -> t instanceof java.util.concurrent.TimeoutException || t instanceof EtcdException);
    assertThat(get(campaign).getLeader().getKey()).isEqualTo(b("r/8b"));
    assertThat(get(lock).getKey()).isEqualTo(b("rl/8b"));
    assertThat(leader("r").getKv().getKey()).isEqualTo(b("r/8b"));
  }
}
