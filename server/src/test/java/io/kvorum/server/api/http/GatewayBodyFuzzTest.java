package io.kvorum.server.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Message;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.server.gojson.GoDecoder;
import io.kvorum.server.gojson.GoJsonException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway's reading of a request body without the HTTP around it (millions of inputs a minute
 * where {@code ClientRequestFuzzTest#gatewayRequest} tries hundreds): every body decodes to
 * messages or is refused with Go's words, never with another exception, and a refusal is final.
 */
class GatewayBodyFuzzTest {
  /** The first byte picks the message (a txn, nested, or a watch request); the rest is the body. */
  @FuzzTest(maxDuration = "2m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void requestBody(byte[] input) {
    if (input.length == 0) {
      return;
    }
    Message prototype = (input[0] & 1) == 0 ? TxnRequest.getDefaultInstance() : WatchRequest.getDefaultInstance();
    GoDecoder decoder = new GoDecoder(1 << 16);
    try {
      for (int i = 1; i < input.length; i++) {
        byte[] value = decoder.write(input[i]);
        if (value != null) {
          parse(prototype, value);
        }
      }
      byte[] last = decoder.end();
      if (last != null) {
        parse(prototype, last);
      }
    } catch (GoJsonException e) {
      assertThat(e.getMessage()).isNotBlank();
      // Like Go's decoder, a failed one stays failed with the same words.
      assertThatThrownBy(decoder::end).hasMessage(e.getMessage());
    }
  }

  private static void parse(Message prototype, byte[] value) {
    try {
      Message m = JsonPbParser.parse(prototype, value);
      assertThat(m.getSerializedSize()).isNotNegative();
    } catch (JsonPbParser.RefusedException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }
}
