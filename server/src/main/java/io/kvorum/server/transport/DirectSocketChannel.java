package io.kvorum.server.transport;

import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A netty NIO connection whose JDK socket a raft stream may also write to from its own thread
 * ({@link OutboundRaftStream}). The JDK socket, unlike a bare file descriptor, is safe to write
 * while another thread closes it: the write fails, and the descriptor number is not reused under it.
 */
final class DirectSocketChannel extends NioSocketChannel {
  SocketChannel socket() {
    return javaChannel();
  }
}
