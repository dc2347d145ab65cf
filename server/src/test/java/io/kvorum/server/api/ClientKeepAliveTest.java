package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's {@code --grpc-keepalive-interval} and {@code --grpc-keepalive-timeout} on the client
 * server, seen from a raw HTTP/2 connection that never answers: the server pings it after the
 * interval and drops it after the timeout; as in etcd, a zero timeout leaves gRPC's defaults (a
 * first ping after 2 hours). gRPC Java pings no sooner than 10 s after the last read, whatever the
 * interval, so the first test takes that long.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientKeepAliveTest {
  private static final int FRAME_PING = 6;
  @TempDir Path dir;

  /** The frame types the server sent on a silent connection until it closed it or {@code readFor} passed. */
  private List<Integer> framesOnSilentConnection(Consumer<io.kvorum.server.config.ServerConfig.Builder> tune,
      Duration readFor) throws Exception {
    List<Integer> types = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.start(dir, 1, tune)) {
      EtcdServer server = cluster.leader(s -> true);
      ClientServer cs = ClientServer.start(server, List.of(URI.create("http://127.0.0.1:0")));
      try (Socket s = new Socket("127.0.0.1", cs.ports().get(0))) {
        s.setSoTimeout((int) readFor.toMillis());
        OutputStream out = s.getOutputStream();
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
          byte[] header = new byte[9];
          in.readFully(header);
          int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
          types.add(header[3] & 0xff);
          in.readFully(new byte[length]);
        }
      } catch (EOFException | SocketException e) {
        types.add(-1);
      } catch (SocketTimeoutException e) {
        // Nothing more within readFor: the connection stays open.
      } finally {
        cs.close();
      }
    }
    return types;
  }

  @Test
  void keepAlive_intervalAndTimeout_pingThenDropASilentClient() throws Exception {
    List<Integer> frames = framesOnSilentConnection(b -> {
      b.grpcKeepAliveInterval = Duration.ofMillis(100);
      b.grpcKeepAliveTimeout = Duration.ofMillis(100);
    }, Duration.ofSeconds(20));
    assertThat(frames).contains(FRAME_PING).endsWith(-1);
  }

  @Test
  void keepAlive_zeroTimeout_leavesGrpcsDefaults() throws Exception {
    List<Integer> frames = framesOnSilentConnection(b -> {
      b.grpcKeepAliveInterval = Duration.ofMillis(100);
      b.grpcKeepAliveTimeout = Duration.ZERO;
    }, Duration.ofSeconds(1));
    assertThat(frames).doesNotContain(FRAME_PING, -1);
  }
}
