package io.kvorum.server.api.http;

import com.google.protobuf.Message;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * etcd's JSON gateway: each {@code POST /v3/…} path of etcd 3.4's grpc-gateway routes maps to one
 * gRPC method, called on the member's own services (through the same interceptors as a gRPC
 * client's calls) over an in-process channel, with the request and the responses in etcd's JSON.
 * The paths are etcd's, including its aliases ({@code /v3/kv/lease/…}); where two methods share
 * a path ({@code /v3/maintenance/hash}) the first registered, as in grpc-gateway's mux, wins.
 */
public final class Gateway {
  /** etcd 3.4's gateway paths and the methods they call, in grpc-gateway's registration order. */
  private static final String[][] ROUTES = {
      {"/v3/kv/range", "etcdserverpb.KV/Range"},
      {"/v3/kv/put", "etcdserverpb.KV/Put"},
      {"/v3/kv/deleterange", "etcdserverpb.KV/DeleteRange"},
      {"/v3/kv/txn", "etcdserverpb.KV/Txn"},
      {"/v3/kv/compaction", "etcdserverpb.KV/Compact"},
      {"/v3/watch", "etcdserverpb.Watch/Watch"},
      {"/v3/lease/grant", "etcdserverpb.Lease/LeaseGrant"},
      {"/v3/lease/revoke", "etcdserverpb.Lease/LeaseRevoke"},
      {"/v3/kv/lease/revoke", "etcdserverpb.Lease/LeaseRevoke"},
      {"/v3/lease/keepalive", "etcdserverpb.Lease/LeaseKeepAlive"},
      {"/v3/lease/timetolive", "etcdserverpb.Lease/LeaseTimeToLive"},
      {"/v3/kv/lease/timetolive", "etcdserverpb.Lease/LeaseTimeToLive"},
      {"/v3/lease/leases", "etcdserverpb.Lease/LeaseLeases"},
      {"/v3/kv/lease/leases", "etcdserverpb.Lease/LeaseLeases"},
      {"/v3/cluster/member/add", "etcdserverpb.Cluster/MemberAdd"},
      {"/v3/cluster/member/remove", "etcdserverpb.Cluster/MemberRemove"},
      {"/v3/cluster/member/update", "etcdserverpb.Cluster/MemberUpdate"},
      {"/v3/cluster/member/list", "etcdserverpb.Cluster/MemberList"},
      {"/v3/cluster/member/promote", "etcdserverpb.Cluster/MemberPromote"},
      {"/v3/maintenance/alarm", "etcdserverpb.Maintenance/Alarm"},
      {"/v3/maintenance/status", "etcdserverpb.Maintenance/Status"},
      {"/v3/maintenance/defragment", "etcdserverpb.Maintenance/Defragment"},
      {"/v3/maintenance/hash", "etcdserverpb.Maintenance/Hash"},
      {"/v3/maintenance/hash", "etcdserverpb.Maintenance/HashKV"},
      {"/v3/maintenance/snapshot", "etcdserverpb.Maintenance/Snapshot"},
      {"/v3/maintenance/transfer-leadership", "etcdserverpb.Maintenance/MoveLeader"},
      {"/v3/auth/enable", "etcdserverpb.Auth/AuthEnable"},
      {"/v3/auth/disable", "etcdserverpb.Auth/AuthDisable"},
      {"/v3/auth/authenticate", "etcdserverpb.Auth/Authenticate"},
      {"/v3/auth/user/add", "etcdserverpb.Auth/UserAdd"},
      {"/v3/auth/user/get", "etcdserverpb.Auth/UserGet"},
      {"/v3/auth/user/list", "etcdserverpb.Auth/UserList"},
      {"/v3/auth/user/delete", "etcdserverpb.Auth/UserDelete"},
      {"/v3/auth/user/changepw", "etcdserverpb.Auth/UserChangePassword"},
      {"/v3/auth/user/grant", "etcdserverpb.Auth/UserGrantRole"},
      {"/v3/auth/user/revoke", "etcdserverpb.Auth/UserRevokeRole"},
      {"/v3/auth/role/add", "etcdserverpb.Auth/RoleAdd"},
      {"/v3/auth/role/get", "etcdserverpb.Auth/RoleGet"},
      {"/v3/auth/role/list", "etcdserverpb.Auth/RoleList"},
      {"/v3/auth/role/delete", "etcdserverpb.Auth/RoleDelete"},
      {"/v3/auth/role/grant", "etcdserverpb.Auth/RoleGrantPermission"},
      {"/v3/auth/role/revoke", "etcdserverpb.Auth/RoleRevokePermission"},
      {"/v3/lock/lock", "v3lockpb.Lock/Lock"},
      {"/v3/lock/unlock", "v3lockpb.Lock/Unlock"},
      {"/v3/election/campaign", "v3electionpb.Election/Campaign"},
      {"/v3/election/proclaim", "v3electionpb.Election/Proclaim"},
      {"/v3/election/leader", "v3electionpb.Election/Leader"},
      {"/v3/election/observe", "v3electionpb.Election/Observe"},
      {"/v3/election/resign", "v3electionpb.Election/Resign"},
  };

  /** One gateway path: the method it calls and the message its body fills. */
  record Route(MethodDescriptor<Message, Message> method, Message requestPrototype) {
    boolean clientStreaming() {
      return !method.getType().clientSendsOneMessage();
    }

    /** etcd's watch ignores the end of its requests; every other stream ends with them. */
    boolean endsWithRequests() {
      return !method.getFullMethodName().equals("etcdserverpb.Watch/Watch");
    }
  }

  private final Map<String, Route> routes = new HashMap<>();
  private final Channel channel;
  private final GatewayStreams streams;
  private final long maxMessageBytes;
  private final BooleanSupplier authEnabled;

  /**
   * @param services the member's services as gRPC clients reach them (with their interceptors)
   * @param channel an in-process channel to those services
   * @param maxConcurrentStreams {@code --max-concurrent-streams}
   * @param maxMessageBytes the gRPC server's limit on a request message
   */
  public Gateway(List<ServerServiceDefinition> services, Channel channel, long maxConcurrentStreams,
      long maxMessageBytes, BooleanSupplier authEnabled) {
    Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
    for (ServerServiceDefinition s : services) {
      for (ServerMethodDefinition<?, ?> m : s.getMethods()) {
        methods.put(m.getMethodDescriptor().getFullMethodName(), m);
      }
    }
    for (String[] r : ROUTES) {
      ServerMethodDefinition<?, ?> m = methods.get(r[1]);
      if (m == null || routes.containsKey(r[0])) {
        continue;
      }
      @SuppressWarnings("unchecked")
      MethodDescriptor<Message, Message> md = (MethodDescriptor<Message, Message>) m.getMethodDescriptor();
      Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) md.getRequestMarshaller())
          .getMessagePrototype();
      routes.put(r[0], new Route(md, prototype));
    }
    this.channel = channel;
    this.streams = new GatewayStreams(maxConcurrentStreams);
    this.maxMessageBytes = maxMessageBytes;
    this.authEnabled = authEnabled;
  }

  boolean authEnabled() {
    return authEnabled.getAsBoolean();
  }

  /** The exchange for a request to {@code path} under {@code /v3/}. */
  Exchange open(ChannelHandlerContext ctx, HttpRequest req, String path, boolean keepAlive, String corsOrigin) {
    Route route = routes.get(path);
    if (route == null) {
      return Fixed.now(ctx, Responses.error(404, "Not Found"), keepAlive, corsOrigin);
    }
    if (!req.method().equals(HttpMethod.POST)) {
      return Fixed.now(ctx, Responses.error(405, "Method Not Allowed"), keepAlive, corsOrigin);
    }
    GatewayExchange x = new GatewayExchange(ctx, route, channel, streams, maxMessageBytes, req.headers(),
        keepAlive, corsOrigin);
    x.open();
    return x;
  }

  /** The paths served (for tests and docs). */
  Map<String, Route> routes() {
    return Map.copyOf(routes);
  }

  /** Gateway calls running now (each holds one of {@code --max-concurrent-streams}). */
  public long activeCalls() {
    return streams.active();
  }

  /** Gateway calls waiting for a stream. */
  public int waitingCalls() {
    return streams.waiting();
  }
}
