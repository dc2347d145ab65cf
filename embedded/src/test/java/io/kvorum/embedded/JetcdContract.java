package io.kvorum.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.cluster.MemberAddResponse;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.lock.LockResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import io.kvorum.embedded.junit.KvorumClusterExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * What a jetcd user does with etcd, done against embedded Kvorum: one body, run on a one-member
 * and a three-member cluster ({@link SingleMemberJetcdTest}, {@link ThreeMemberJetcdTest}). The
 * cluster lives for the class; every test works under its own key prefix.
 */
abstract class JetcdContract {
  /** The longest a test waits for one asynchronous answer or event. */
  static final long WAIT_SECONDS = 10;
  /** etcd's health interval (5 s) and some. */
  static final long HEALTHY_SECONDS = 15;

  /** The cluster the subclass registered. */
  abstract KvorumClusterExtension cluster();

  Client client;
  String prefix;

  @BeforeEach
  void connect(TestInfo test) {
    client = Client.builder().endpoints(cluster().clientEndpoints().toArray(URI[]::new)).build();
    prefix = "/" + test.getTestMethod().orElseThrow().getName() + "/";
  }

  @AfterEach
  void disconnect() {
    client.close();
  }

  ByteSequence key(String name) {
    return bytes(prefix + name);
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void kv_putGetDeleteAndPrefix() throws Exception {
    KV kv = client.getKVClient();
    get(kv.put(key("a"), bytes("1")));
    get(kv.put(key("b"), bytes("2")));
    get(kv.put(key("c"), bytes("3")));

    GetResponse one = get(kv.get(key("b")));
    assertThat(one.getKvs()).singleElement().satisfies(v -> assertThat(v.getValue()).isEqualTo(bytes("2")));
    GetResponse all = get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()));
    assertThat(all.getKvs()).extracting(v -> v.getKey().toString(StandardCharsets.UTF_8))
        .containsExactly(prefix + "a", prefix + "b", prefix + "c");

    assertThat(get(kv.delete(key("a"))).getDeleted()).isEqualTo(1);
    assertThat(get(kv.get(key("a"))).getKvs()).isEmpty();
    assertThat(get(kv.delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build())).getDeleted()).isEqualTo(2);
    assertThat(get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withCountOnly(true).build())).getCount())
        .isZero();
  }

  @Test
  void txn_takesThenOrElseByTheComparison() throws Exception {
    KV kv = client.getKVClient();
    get(kv.put(key("flag"), bytes("on")));

    TxnResponse then = get(kv.txn()
        .If(new Cmp(key("flag"), Cmp.Op.EQUAL, CmpTarget.value(bytes("on"))))
        .Then(Op.put(key("result"), bytes("then"), PutOption.DEFAULT))
        .Else(Op.put(key("result"), bytes("else"), PutOption.DEFAULT))
        .commit());
    assertThat(then.isSucceeded()).isTrue();
    TxnResponse otherwise = get(kv.txn()
        .If(new Cmp(key("flag"), Cmp.Op.EQUAL, CmpTarget.value(bytes("off"))))
        .Then(Op.put(key("result"), bytes("then"), PutOption.DEFAULT))
        .Else(Op.get(key("result"), GetOption.DEFAULT))
        .commit());
    assertThat(otherwise.isSucceeded()).isFalse();
    assertThat(otherwise.getGetResponses()).singleElement()
        .satisfies(g -> assertThat(g.getKvs().get(0).getValue()).isEqualTo(bytes("then")));
  }

  @Test
  void watch_seesPutsAndDeletesWithPreviousValues() throws Exception {
    KV kv = client.getKVClient();
    long from = get(kv.put(key("before"), bytes("x"))).getHeader().getRevision() + 1;
    BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
    WatchOption opt = WatchOption.builder().isPrefix(true).withPrevKV(true).withRevision(from).build();
    var watcher = client.getWatchClient().watch(key("w"), opt, r -> events.addAll(r.getEvents()));
    try {
      get(kv.put(key("w1"), bytes("v1")));
      get(kv.put(key("w1"), bytes("v2")));
      get(kv.delete(key("w1")));

      WatchEvent first = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      WatchEvent second = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      WatchEvent third = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(first.getEventType()).isEqualTo(WatchEvent.EventType.PUT);
      assertThat(first.getKeyValue().getValue()).isEqualTo(bytes("v1"));
      assertThat(second.getEventType()).isEqualTo(WatchEvent.EventType.PUT);
      assertThat(second.getPrevKV().getValue()).isEqualTo(bytes("v1"));
      assertThat(third.getEventType()).isEqualTo(WatchEvent.EventType.DELETE);
      assertThat(third.getPrevKV().getValue()).isEqualTo(bytes("v2"));
    } finally {
      watcher.close();
    }
  }

  @Test
  void lease_keepsAliveAndRevokeDeletesTheAttachedKey() throws Exception {
    var leases = client.getLeaseClient();
    long id = get(leases.grant(30)).getID();
    get(client.getKVClient().put(key("leased"), bytes("v"), PutOption.builder().withLeaseId(id).build()));

    assertThat(get(leases.keepAliveOnce(id)).getTTL()).isPositive();
    BlockingQueue<LeaseKeepAliveResponse> renewals = new LinkedBlockingQueue<>();
    CloseableClient keepAlive = leases.keepAlive(id, new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        renewals.add(r);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    try {
      LeaseKeepAliveResponse renewed = renewals.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(renewed).isNotNull();
      assertThat(renewed.getID()).isEqualTo(id);
    } finally {
      keepAlive.close();
    }
    var ttl = get(leases.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()));
    assertThat(ttl.getGrantedTTL()).isEqualTo(30);
    assertThat(ttl.getKeys()).containsExactly(key("leased"));

    get(leases.revoke(id));
    assertThat(get(client.getKVClient().get(key("leased"))).getKvs()).isEmpty();
  }

  @Test
  void lock_isHeldUntilUnlocked() throws Exception {
    long lease = get(client.getLeaseClient().grant(30)).getID();
    LockResponse held = get(client.getLockClient().lock(key("lock"), lease));
    assertThat(held.getKey().toString(StandardCharsets.UTF_8)).startsWith(prefix + "lock/");
    assertThat(get(client.getKVClient().get(held.getKey())).getKvs()).hasSize(1);

    // A second holder waits while the first holds it.
    long other = get(client.getLeaseClient().grant(30)).getID();
    CompletableFuture<LockResponse> waiting = client.getLockClient().lock(key("lock"), other);
    assertThat(waiting).isNotDone();

    get(client.getLockClient().unlock(held.getKey()));
    assertThat(get(waiting).getKey()).isNotEqualTo(held.getKey());
    assertThat(get(client.getKVClient().get(held.getKey())).getKvs()).isEmpty();
  }

  @Test
  void election_campaignLeaderObserveResign() throws Exception {
    Election election = client.getElectionClient();
    long lease = get(client.getLeaseClient().grant(30)).getID();
    CampaignResponse won = get(election.campaign(key("election"), lease, bytes("me")));
    LeaderResponse leader = get(election.leader(key("election")));
    assertThat(leader.getKv().getValue()).isEqualTo(bytes("me"));

    BlockingQueue<LeaderResponse> observed = new LinkedBlockingQueue<>();
    election.observe(key("election"), new Election.Listener() {
      @Override
      public void onNext(LeaderResponse r) {
        observed.add(r);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    LeaderResponse seen = observed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.getKv().getValue()).isEqualTo(bytes("me"));

    get(election.resign(won.getLeader()));
    assertThat(get(client.getKVClient().get(won.getLeader().getKey())).getKvs()).isEmpty();
  }

  @Test
  void cluster_listsMembersAndAddsAndRemovesALearner() throws Exception {
    var members = client.getClusterClient();
    List<Member> listed = get(members.listMember()).getMembers();
    assertThat(listed).hasSize(cluster().clientEndpoints().size());
    assertThat(listed).flatExtracting(Member::getClientURIs)
        .containsExactlyInAnyOrderElementsOf(cluster().clientEndpoints());

    URI learnerPeer = URI.create("http://127.0.0.1:" + Ports.take());
    // etcd 3.4 (strict reconfiguration check) adds members only once every voter has been
    // connected for 5 s: right after the cluster started it answers "unhealthy cluster".
    MemberAddResponse added = untilHealthy(() -> members.addMember(List.of(learnerPeer), true));
    assertThat(added.getMember().isLearner()).isTrue();
    assertThat(get(members.listMember()).getMembers()).hasSize(listed.size() + 1);

    get(members.removeMember(added.getMember().getId()));
    assertThat(get(members.listMember()).getMembers()).extracting(Member::getId)
        .doesNotContain(added.getMember().getId());
  }

  /** Calls {@code call} until it does not fail with etcd's "unhealthy cluster", for at most {@link #HEALTHY_SECONDS}. */
  static <T> T untilHealthy(java.util.function.Supplier<CompletableFuture<T>> call) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HEALTHY_SECONDS);
    while (true) {
      try {
        return get(call.get());
      } catch (java.util.concurrent.ExecutionException e) {
        if (!String.valueOf(e.getCause().getMessage()).contains("unhealthy cluster") || System.nanoTime() > deadline) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }

  @Test
  void maintenance_statusHashKvAndDefragment() throws Exception {
    var maintenance = client.getMaintenanceClient();
    get(client.getKVClient().put(key("k"), bytes("v")));
    for (URI endpoint : cluster().clientEndpoints()) {
      StatusResponse status = get(maintenance.statusMember(endpoint.toString()));
      assertThat(status.getVersion()).startsWith("3.4");
      assertThat(status.getLeader()).isNotZero();
      assertThat(status.getDbSize()).isPositive();
    }
    String first = cluster().clientEndpoints().get(0).toString();
    long rev = get(client.getKVClient().get(key("k"))).getHeader().getRevision();
    int hash = get(maintenance.hashKV(first, rev)).getHash();
    assertThat(get(maintenance.hashKV(first, rev)).getHash()).isEqualTo(hash);
    get(maintenance.defragmentMember(first));
    assertThat(get(maintenance.hashKV(first, rev)).getHash()).isEqualTo(hash);
  }

  @Test
  void maintenance_snapshot_isEtcdsFileWithItsHash() throws Exception {
    get(client.getKVClient().put(key("snap"), bytes("v")));
    long rev = get(client.getKVClient().get(key("snap"))).getHeader().getRevision();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    long written = client.getMaintenanceClient().snapshot(out).get(WAIT_SECONDS, TimeUnit.SECONDS);
    byte[] file = out.toByteArray();
    assertThat(written).isEqualTo(file.length);
    // What etcdctl snapshot save writes: the database (whole 512-byte sectors), then its SHA-256.
    assertThat(file.length % 512).isEqualTo(32);
    byte[] db = java.util.Arrays.copyOf(file, file.length - 32);
    assertThat(java.util.Arrays.copyOfRange(file, db.length, file.length))
        .isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(db));
    java.nio.file.Path f = java.nio.file.Files.createTempFile("kvorum-jetcd-snapshot", ".db");
    try {
      java.nio.file.Files.write(f, db);
      try (io.kvorum.server.bolt.BoltReader r = io.kvorum.server.bolt.BoltReader.open(f)) {
        long[] last = {0};
        r.forEach("key".getBytes(StandardCharsets.US_ASCII), (k, v) -> {
          last[0] = java.nio.ByteBuffer.wrap(k).getLong();
          return true;
        });
        assertThat(last[0]).isGreaterThanOrEqualTo(rev);
      }
    } finally {
      java.nio.file.Files.deleteIfExists(f);
    }
  }
}
