package io.kvorum.cli;

import io.kvorum.server.api.ClientServer;
import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.DataInconsistencyException;
import io.kvorum.server.etcdserver.EtcdServer;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code etcd}-compatible launcher. Starts a member, prints etcd's readiness lines once clients
 * are served, and on SIGINT/SIGTERM stops cleanly, then re-raises the signal so the process ends
 * the way etcd's does (killed by that signal, not a plain exit code).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals(Migrate.NAME)) {
      System.exit(Migrate.run(java.util.Arrays.copyOfRange(args, 1, args.length)));
      return;
    }
    EtcdFlags.Parsed parsed;
    ServerConfig cfg;
    try {
      parsed = EtcdFlags.parse(args, System.getenv());
      if (EtcdFlags.helpAsked(parsed)) {
        System.out.println(EtcdFlags.usage());
        return;
      }
      if (parsed.has("version") && !"false".equals(parsed.get("version"))) {
        System.out.println("etcd Version: " + EtcdServer.SERVER_VERSION);
        System.out.println("Git SHA: kvorum");
        System.out.println("Go Version: n/a (Kvorum on Java " + Runtime.version() + ")");
        System.out.println("Go OS/Arch: " + System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT) + "/"
            + System.getProperty("os.arch"));
        return;
      }
      cfg = EtcdFlags.toConfig(parsed);
      Logging.apply(cfg.logLevel, cfg.logOutputs);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    // Netty's leak detector samples buffer allocations on every request path; off unless asked for.
    if (System.getProperty("io.grpc.netty.shaded.io.netty.leakDetection.level") == null) {
      System.setProperty("io.grpc.netty.shaded.io.netty.leakDetection.level", "disabled");
    }
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    Logger log = LoggerFactory.getLogger("etcdmain");
    parsed.notices().forEach(n -> log.info(n));
    parsed.warnings().forEach(w -> log.warn(w));
    log.info("etcd Version: {} (Kvorum)", EtcdServer.SERVER_VERSION);
    CompilerPriority.apply(log);
    AtomicReference<String> signal = new AtomicReference<>();
    CountDownLatch stop = new CountDownLatch(1);
    installSignalHandler("INT", signal, stop);
    installSignalHandler("TERM", signal, stop);
    EtcdServer server = null;
    ClientServer clients = null;
    try {
      // Before the member opens anything, so a crash point in start-up is reached too.
      io.kvorum.server.failpoint.Failpoints.start();
      server = EtcdServer.start(cfg);
      clients = ClientServer.start(server, cfg.listenClientUrls);
      log.info("serving client requests on {}", cfg.listenClientUrls);
      EtcdServer s = server;
      server.publish(cfg.advertiseClientUrls).thenRun(() -> {
        log.info("published local member to cluster through raft (member {}, client URLs {})",
            Long.toHexString(s.memberId()), cfg.advertiseClientUrls);
        log.info("enabled capabilities for version 3.4");
      });
      AtomicReference<String> ended = new AtomicReference<>();
      server.terminated().thenAccept(reason -> {
        ended.set(reason);
        stop.countDown();
      });
      stop.await();
      if (ended.get() != null && signal.get() == null) {
        // The member stopped itself: removed from the cluster (etcd exits 0) or a fatal error.
        boolean removed = ended.get().contains("removed");
        log.info("member stopped: {}", ended.get());
        closeQuietly(clients, server, log);
        System.exit(removed ? 0 : 1);
      }
    } catch (DataInconsistencyException e) {
      // etcd's line (etcdmain's fatal log of the initial corruption check), which its tests wait for.
      log.error("etcdmain: {}", e.getMessage());
      closeQuietly(clients, server, log);
      System.exit(1);
    } catch (IOException | RuntimeException | Error e) {
      // An Error too: the member's threads would keep a half-started JVM alive otherwise.
      log.error("failed to start member: {}", e.toString(), e);
      closeQuietly(clients, server, log);
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("received {} signal, shutting down", signal.get());
    closeQuietly(clients, server, log);
    reraise(signal.get());
  }

  private static void closeQuietly(ClientServer clients, EtcdServer server, Logger log) {
    try {
      if (clients != null) {
        clients.close();
      }
      if (server != null) {
        server.close();
      }
    } catch (IOException | RuntimeException e) {
      log.warn("error while stopping: {}", e.toString());
    }
  }

  /**
   * sun.misc.Signal through reflection: the JDK exports it (jdk.unsupported) but javac warns on
   * direct use, and the build treats warnings as errors.
   */
  private static void installSignalHandler(String name, AtomicReference<String> signal, CountDownLatch stop) {
    try {
      Class<?> sigClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object sig = sigClass.getConstructor(String.class).newInstance(name);
      InvocationHandler h = (Object proxy, Method m, Object[] a) -> {
        if (m.getName().equals("handle")) {
          signal.compareAndSet(null, name);
          stop.countDown();
        }
        return null;
      };
      Object handler = Proxy.newProxyInstance(Main.class.getClassLoader(), new Class<?>[] {handlerClass}, h);
      sigClass.getMethod("handle", sigClass, handlerClass).invoke(null, sig, handler);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LoggerFactory.getLogger("etcdmain").warn("cannot install {} handler: {}", name, e.toString());
    }
  }

  /** Restores the default action for {@code name} and raises it, so the process dies by it. */
  private static void reraise(String name) {
    if (name == null) {
      System.exit(0);
      return;
    }
    try {
      Class<?> sigClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object sig = sigClass.getConstructor(String.class).newInstance(name);
      Object dfl = handlerClass.getField("SIG_DFL").get(null);
      sigClass.getMethod("handle", sigClass, handlerClass).invoke(null, sig, dfl);
      // Signal.raise refuses a signal without a Java handler, so let the OS deliver it: with the
      // default action restored, the process ends killed by the signal, as etcd's does.
      new ProcessBuilder("kill", "-" + name, Long.toString(ProcessHandle.current().pid())).inheritIO().start()
          .waitFor();
      Thread.sleep(2000);
    } catch (ReflectiveOperationException | RuntimeException | IOException e) {
      // fall through
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.exit(128 + ("INT".equals(name) ? 2 : 15));
  }
}
