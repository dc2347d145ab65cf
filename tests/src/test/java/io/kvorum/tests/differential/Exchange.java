package io.kvorum.tests.differential;

import com.google.protobuf.MessageOrBuilder;
import io.grpc.Status;

/**
 * One thing a scenario saw or did on one side, in order: a request sent, a response or stream
 * message received, an error, a stream's end, or a fact the scenario derived ({@link #note}).
 */
record Exchange(Kind kind, int member, String method, MessageOrBuilder message, Status status, String note) {
  enum Kind {
    REQUEST, RESPONSE, ERROR, SEND, RECEIVE, END, NOTE
  }

  /** Renders this exchange with the side's normaliser; equal texts mean equal behaviour. */
  String render(Normalizer n) {
    String where = "[m" + member + "] " + method;
    return switch (kind) {
      case REQUEST -> where + " request\n" + n.request(message);
      case SEND -> where + " send\n" + n.request(message);
      case RESPONSE -> where + " response\n" + n.response(message);
      case RECEIVE -> where + " receive\n" + n.response(message);
      case ERROR -> where + " error " + status.getCode() + ": " + n.error(String.valueOf(status.getDescription())) + "\n";
      case END -> where + " stream ended " + status.getCode()
          + (status.getDescription() == null ? "" : ": " + n.error(status.getDescription())) + "\n";
      case NOTE -> "note: " + n.text(note) + "\n";
    };
  }
}
