package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import io.kvorum.server.etcdserver.RequestContext;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Maintenance.Hash over real gRPC: answered (no longer UNIMPLEMENTED) with etcd's header. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MaintenanceHashGrpcTest {
  @TempDir Path dir;

  @Test
  void hash_overGrpc_matchesTheMember_andMovesWithAPut() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir, 1, b -> { })) {
      EtcdServer server = cluster.leader(s -> true);
      ClientServer cs = ClientServer.start(server, List.of(URI.create("http://127.0.0.1:0")));
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cs.ports().get(0)).usePlaintext().build();
      try {
        var maintenance = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
        HashResponse before = maintenance.hash(HashRequest.getDefaultInstance());
        assertThat(before.getHash()).isEqualTo(server.hash(RequestContext.of("test")).get(20, TimeUnit.SECONDS).getHash());
        assertThat(before.getHeader().getRevision()).isEqualTo(1);
        assertThat(before.getHeader().getMemberId()).isEqualTo(server.memberId());
        assertThat(before.getHeader().getClusterId()).isEqualTo(server.clusterId());
        assertThat(before.getHeader().getRaftTerm()).isEqualTo(server.term());

        KVGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS).put(PutRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build());
        HashResponse after = maintenance.hash(HashRequest.getDefaultInstance());
        assertThat(after.getHash()).isNotEqualTo(before.getHash());
        assertThat(after.getHeader().getRevision()).isEqualTo(2);
      } finally {
        ch.shutdownNow();
        cs.close();
      }
    }
  }
}
