package io.kvorum.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** etcd's fragmenting of a large watch response. */
class WatchFragmentTest {
  private static WatchResponse response(int events, int valueBytes) {
    WatchResponse.Builder b = WatchResponse.newBuilder().setWatchId(3)
        .setHeader(ResponseHeader.newBuilder().setRevision(9));
    for (int i = 0; i < events; i++) {
      b.addEvents(Event.newBuilder().setKv(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("k" + i))
          .setValue(ByteString.copyFrom(new byte[valueBytes])).setModRevision(9)));
    }
    return b.build();
  }

  @Test
  void smallResponse_orOneEvent_isSentWhole() {
    WatchResponse r = response(3, 10);
    assertThat(WatchStream.fragments(r, 1000)).containsExactly(r);
    WatchResponse big = response(1, 5000);
    assertThat(WatchStream.fragments(big, 1000)).containsExactly(big);
  }

  @Test
  void largeResponse_isSplitUnderTheLimit_allButTheLastMarkedFragment() {
    WatchResponse r = response(10, 300);
    List<WatchResponse> parts = WatchStream.fragments(r, 1000);
    assertThat(parts.size()).isGreaterThan(1);
    List<Event> all = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      WatchResponse p = parts.get(i);
      assertThat(p.getFragment()).isEqualTo(i < parts.size() - 1);
      assertThat(p.getWatchId()).isEqualTo(3);
      assertThat(p.getHeader().getRevision()).isEqualTo(9);
      assertThat(p.getSerializedSize()).isLessThan(1000);
      all.addAll(p.getEventsList());
    }
    assertThat(all).isEqualTo(r.getEventsList());
  }
}
