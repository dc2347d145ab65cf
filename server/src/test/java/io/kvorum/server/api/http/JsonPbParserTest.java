package io.kvorum.server.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** jsonpb's reading of etcd's requests (what etcd 3.4.23's gateway accepted and refused). */
class JsonPbParserTest {
  @SuppressWarnings("unchecked")
  private static <T extends Message> T parse(T prototype, String json) throws Exception {
    return (T) JsonPbParser.parse(prototype, json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void fields_byProtoOrJsonName_jsonNameWins_unknownIgnored() throws Exception {
    RangeRequest r = parse(RangeRequest.getDefaultInstance(),
        "{\"key\":\"YQ==\",\"keys_only\":false,\"keysOnly\":true,\"limit\":\"2\",\"nothing\":[1],"
            + "\"sort_order\":\"DESCEND\",\"sort_target\":3}");
    assertThat(r.getKey().toStringUtf8()).isEqualTo("a");
    assertThat(r.getKeysOnly()).isTrue();
    assertThat(r.getLimit()).isEqualTo(2);
    assertThat(r.getSortOrder()).isEqualTo(RangeRequest.SortOrder.DESCEND);
    assertThat(r.getSortTarget()).isEqualTo(RangeRequest.SortTarget.MOD);
    assertThat(parse(RangeRequest.getDefaultInstance(), "null")).isEqualTo(RangeRequest.getDefaultInstance());
    // An enum number outside the enum is kept, as Go keeps any int32.
    assertThat(parse(RangeRequest.getDefaultInstance(), "{\"sort_order\":7}").getSortOrderValue()).isEqualTo(7);
  }

  @Test
  void oneofs_andNestedMessages_asJsonpbSetsThem() throws Exception {
    TxnRequest t = parse(TxnRequest.getDefaultInstance(),
        "{\"compare\":[{\"key\":\"YQ==\",\"version\":null,\"target\":\"VERSION\"}],"
            + "\"success\":[{\"request_put\":{\"key\":\"YQ==\"}}],\"failure\":[{\"request_range\":null}]}");
    // A null scalar member still selects its oneof (jsonpb sets the wrapper); a null message member none.
    assertThat(t.getCompare(0).getTargetUnionCase()).isEqualTo(Compare.TargetUnionCase.VERSION);
    assertThat(t.getSuccess(0).getRequestPut()).isEqualTo(PutRequest.newBuilder()
        .setKey(com.google.protobuf.ByteString.copyFromUtf8("a")).build());
    assertThat(t.getFailure(0).getRequestCase()).isEqualTo(RequestOp.RequestCase.REQUEST_NOT_SET);
    WatchRequest w = parse(WatchRequest.getDefaultInstance(),
        "{\"create_request\":{\"filters\":[\"NOPUT\",1],\"watch_id\":\"7\"}}");
    assertThat(w.getCreateRequest().getFiltersList()).containsExactly(WatchCreateRequest.FilterType.NOPUT,
        WatchCreateRequest.FilterType.NODELETE);
    assertThat(w.getCreateRequest().getWatchId()).isEqualTo(7);
  }

  @Test
  void refusals_inJsonpbsWords() {
    assertThatThrownBy(() -> parse(RangeRequest.getDefaultInstance(), "{\"sort_order\":\"BAD\"}"))
        .hasMessage("unknown value \"BAD\" for enum etcdserverpb.RangeRequest_SortOrder");
    assertThatThrownBy(() -> parse(RangeRequest.getDefaultInstance(), "{\"sort_order\":\"\\u0041\"}"))
        .hasMessage("unknown value \"\\\\u0041\" for enum etcdserverpb.RangeRequest_SortOrder");
    assertThatThrownBy(() -> parse(PutRequest.getDefaultInstance(), "{\"lease\":\"x\"}"))
        .hasMessage("invalid character 'x' looking for beginning of value");
    assertThatThrownBy(() -> parse(PutRequest.getDefaultInstance(), "{\"prev_kv\":\"true\"}"))
        .hasMessage("json: cannot unmarshal string into Go value of type bool");
    assertThatThrownBy(() -> parse(TxnRequest.getDefaultInstance(), "{\"compare\":{}}"))
        .hasMessage("json: cannot unmarshal object into Go value of type []json.RawMessage");
    assertThatThrownBy(() -> parse(TxnRequest.getDefaultInstance(), "{\"compare\":[{\"target_union\":1}]}"))
        .hasMessage("json: cannot unmarshal number into Go value of type etcdserverpb.isCompare_TargetUnion");
    assertThatThrownBy(() -> parse(TxnRequest.getDefaultInstance(), "{\"compare\":[null]}"))
        .hasMessage("proto: repeated field Compare has nil element");
    // Fields are read in declaration order: the first field's error wins.
    assertThatThrownBy(() -> parse(PutRequest.getDefaultInstance(), "{\"value\":1,\"key\":true}"))
        .hasMessage("json: cannot unmarshal bool into Go value of type []uint8");
  }

  @Test
  void nestingBeyondProtobufsDepth_refusedAsTheGrpcPathRefusesIt() throws Exception {
    StringBuilder json = new StringBuilder();
    int levels = JsonPbParser.MESSAGE_DEPTH_MAX;
    for (int i = 0; i < levels; i++) {
      json.append("{\"success\":[{\"request_txn\":");
    }
    json.append("{}");
    for (int i = 0; i < levels; i++) {
      json.append("}]}");
    }
    assertThatThrownBy(() -> parse(TxnRequest.getDefaultInstance(), json.toString()))
        .isInstanceOfSatisfying(JsonPbParser.RefusedException.class, e -> assertThat(e.decoding()).isFalse())
        .hasMessageStartingWith("grpc: error unmarshalling request: Protocol message had too many levels of nesting");
  }
}
