package io.kvorum.embedded;

import io.kvorum.server.api.ClientServer;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One member of an embedded cluster: its configuration (fixed for its life, so a restart finds the
 * same data on the same ports) and, while it runs, its {@link EtcdServer} and the {@link
 * ClientServer} that serves its clients.
 */
final class Member {
  final String name;
  final URI clientUrl;
  final URI peerUrl;
  final ServerConfig config;
  private EtcdServer server;
  private ClientServer clients;
  private CompletableFuture<Void> published;

  Member(String name, URI clientUrl, URI peerUrl, ServerConfig config) {
    this.name = name;
    this.clientUrl = clientUrl;
    this.peerUrl = peerUrl;
    this.config = config;
  }

  Path dataDir() {
    return config.dataDir;
  }

  boolean running() {
    return server != null;
  }

  EtcdServer server() {
    if (server == null) {
      throw new IllegalStateException("member " + name + " is stopped");
    }
    return server;
  }

  /**
   * Opens the data, starts serving peers and clients, and publishes the member's client URL
   * through the log; {@link #ready()} completes when that is applied here: a leader exists and this
   * member has caught up with it.
   */
  void start() throws IOException {
    if (server != null) {
      return;
    }
    EtcdServer s = EtcdServer.start(config);
    try {
      clients = ClientServer.start(s, config.listenClientUrls);
    } catch (IOException | RuntimeException e) {
      try {
        s.hardStop();
      } catch (IOException | RuntimeException stopping) {
        e.addSuppressed(stopping);
      }
      throw e;
    }
    server = s;
    published = s.publish(config.advertiseClientUrls);
  }

  CompletableFuture<Void> ready() {
    if (published == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("member " + name + " is stopped"));
    }
    return published;
  }

  /**
   * Stops serving; with {@code handOver} a leader first hands leadership to another voter (etcd's
   * clean stop), without it the member stops as a crash would look to its peers.
   */
  void stop(boolean handOver) throws IOException {
    if (server == null) {
      return;
    }
    EtcdServer s = server;
    server = null;
    published = null;
    try {
      clients.close();
    } finally {
      clients = null;
      if (handOver) {
        s.close();
      } else {
        s.hardStop();
      }
    }
  }
}
