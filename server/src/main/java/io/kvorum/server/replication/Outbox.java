package io.kvorum.server.replication;

import io.kvorum.raft.Message;
import java.util.List;

/** Sends raft messages to peers; best effort, never blocks the raft loop. */
public interface Outbox {
  void send(List<Message> messages);
}
