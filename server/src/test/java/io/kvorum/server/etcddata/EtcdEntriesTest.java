package io.kvorum.server.etcddata;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.proto.etcdinternalpb.InternalAuthenticateRequest;
import io.kvorum.proto.etcdinternalpb.InternalRaftRequest;
import io.kvorum.proto.etcdinternalpb.Request;
import io.kvorum.proto.etcdinternalpb.RequestHeader;
import io.kvorum.proto.etcdraftpb.ConfChange;
import io.kvorum.proto.etcdraftpb.ConfChangeType;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.EntryType;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.auth.Passwords;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdEntriesTest {
  private static final Passwords PASSWORDS = new Passwords(Passwords.MIN_COST);

  private static Entry normal(long index, ByteString data) {
    return Entry.newBuilder().setIndex(index).setTerm(1).setType(EntryType.EntryNormal).setData(data).build();
  }

  private static Entry confChange(long index, ConfChangeType type, long node, String context) {
    ConfChange.Builder cc = ConfChange.newBuilder().setId(7).setType(type).setNodeId(node);
    if (context != null) {
      cc.setContext(ByteString.copyFromUtf8(context));
    }
    return Entry.newBuilder().setIndex(index).setTerm(1).setType(EntryType.EntryConfChange)
        .setData(cc.build().toByteString()).build();
  }

  private static io.kvorum.proto.serverpb.InternalRaftRequest translated(EtcdEntries.Payload p) {
    EtcdEntries.Translation t = EtcdEntries.translate(p, PASSWORDS);
    assertThat(t).isInstanceOf(EtcdEntries.Translated.class);
    return ((EtcdEntries.Translated) t).request();
  }

  @Test
  void decode_unknownEntryType_isRefused() throws Exception {
    // Type = 7 on the wire: proto2 keeps an unknown enum number aside instead of failing.
    byte[] bytes = com.google.protobuf.ByteString.copyFrom(new byte[] {0x08, 0x07, 0x18, 0x01}).toByteArray();
    Entry e = Entry.parseFrom(bytes);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> EtcdEntries.decode(e))
        .isInstanceOf(EtcdDataException.class).hasMessageContaining("unknown entry type");
  }

  @Test
  void decode_emptyNormalEntry_isNoop() throws Exception {
    assertThat(EtcdEntries.decode(normal(3, ByteString.EMPTY))).isInstanceOf(EtcdEntries.Noop.class);
  }

  @Test
  void decode_addNode_carriesTheMemberFromTheContext() throws Exception {
    // etcd's member id 0xfd422379fda50e48 does not fit a JSON double exactly: it must be read as an integer.
    long id = 0xfd422379fda50e48L;
    String json = "{\"id\":" + Long.toUnsignedString(id) + ",\"peerURLs\":[\"http://127.0.0.1:2381\"],\"name\":\"b\"}";
    EtcdEntries.Payload p = EtcdEntries.decode(confChange(4, ConfChangeType.ConfChangeAddNode, id, json));
    EtcdEntries.MemberChange c = (EtcdEntries.MemberChange) p;
    assertThat(c.kind()).isEqualTo(EtcdEntries.ChangeKind.ADD);
    assertThat(c.member().orElseThrow()).isEqualTo(new EtcdMember(id, "b", List.of("http://127.0.0.1:2381"), List.of(), false));
  }

  @Test
  void decode_addLearnerPromoteRemoveUpdate_areNamed() throws Exception {
    assertThat(((EtcdEntries.MemberChange) EtcdEntries.decode(confChange(1, ConfChangeType.ConfChangeAddLearnerNode, 5,
        "{\"id\":5,\"peerURLs\":[\"http://p\"],\"isLearner\":true}"))).kind()).isEqualTo(EtcdEntries.ChangeKind.ADD_LEARNER);
    assertThat(((EtcdEntries.MemberChange) EtcdEntries.decode(confChange(2, ConfChangeType.ConfChangeAddNode, 5,
        "{\"id\":5,\"peerURLs\":null,\"isPromote\":true}"))).kind()).isEqualTo(EtcdEntries.ChangeKind.PROMOTE);
    EtcdEntries.MemberChange rm = (EtcdEntries.MemberChange) EtcdEntries.decode(
        confChange(3, ConfChangeType.ConfChangeRemoveNode, 5, null));
    assertThat(rm.kind()).isEqualTo(EtcdEntries.ChangeKind.REMOVE);
    assertThat(rm.member()).isEmpty();
    assertThat(((EtcdEntries.MemberChange) EtcdEntries.decode(confChange(4, ConfChangeType.ConfChangeUpdateNode, 5,
        "{\"id\":5,\"peerURLs\":[\"http://q\"]}"))).kind()).isEqualTo(EtcdEntries.ChangeKind.UPDATE);
  }

  @Test
  void decode_confChangeWhoseContextNamesAnotherMember_isRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> EtcdEntries.decode(
        confChange(1, ConfChangeType.ConfChangeAddNode, 5, "{\"id\":6,\"peerURLs\":[]}")))
        .isInstanceOf(EtcdDataException.class).hasMessageContaining("carries member");
  }

  @Test
  void decode_bareV2Publish_isPublishAndTranslates() throws Exception {
    Request r = Request.newBuilder().setID(99).setMethod("PUT").setPath("/0/members/8e9e05c52164694d/attributes")
        .setVal("{\"name\":\"a\",\"clientURLs\":[\"http://127.0.0.1:2379\"]}").build();
    EtcdEntries.Payload p = EtcdEntries.decode(normal(5, r.toByteString()));
    assertThat(p).isEqualTo(new EtcdEntries.Publish(99, 0x8e9e05c52164694dL, "a", List.of("http://127.0.0.1:2379")));
    io.kvorum.proto.serverpb.InternalRaftRequest k = translated(p);
    assertThat(k.getHeader().getId()).isEqualTo(99);
    assertThat(k.getPublish().getMemberId()).isEqualTo(0x8e9e05c52164694dL);
    assertThat(k.getPublish().getClientUrlsList()).containsExactly("http://127.0.0.1:2379");
  }

  @Test
  void decode_bareV2ClusterVersion_translates() throws Exception {
    Request r = Request.newBuilder().setID(3).setMethod("PUT").setPath("/0/version").setVal("3.4.0").build();
    EtcdEntries.Payload p = EtcdEntries.decode(normal(6, r.toByteString()));
    assertThat(p).isEqualTo(new EtcdEntries.ClusterVersion(3, "3.4.0"));
    assertThat(translated(p).getClusterVersion().getVersion()).isEqualTo("3.4.0");
  }

  @Test
  void translate_otherV2Request_isRefused() throws Exception {
    Request r = Request.newBuilder().setID(3).setMethod("PUT").setPath("/1/foo").setVal("bar").build();
    EtcdEntries.Payload p = EtcdEntries.decode(normal(6, r.toByteString()));
    assertThat(p).isInstanceOf(EtcdEntries.OtherV2.class);
    assertThat(EtcdEntries.translate(p, PASSWORDS)).isInstanceOf(EtcdEntries.Refused.class);
    InternalRaftRequest wrapped = InternalRaftRequest.newBuilder().setID(3).setV2(r).build();
    assertThat(EtcdEntries.translate(wrapped, PASSWORDS)).isInstanceOf(EtcdEntries.Refused.class);
  }

  @Test
  void translate_put_keepsTheRequestAndEtcdsHeader() throws Exception {
    PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v"))
        .setLease(42).build();
    InternalRaftRequest r = InternalRaftRequest.newBuilder()
        .setHeader(RequestHeader.newBuilder().setID(11).setUsername("root").setAuthRevision(4)).setPut(put).build();
    EtcdEntries.Payload p = EtcdEntries.decode(normal(7, r.toByteString()));
    io.kvorum.proto.serverpb.InternalRaftRequest k = translated(p);
    assertThat(k.getPut()).isEqualTo(put);
    assertThat(k.getHeader().getId()).isEqualTo(11);
    assertThat(k.getHeader().getUsername()).isEqualTo("root");
    assertThat(k.getHeader().getAuthRevision()).isEqualTo(4);
  }

  @Test
  void translate_userAddAndChangePassword_hashTheirPasswords() {
    InternalRaftRequest add = InternalRaftRequest.newBuilder().setHeader(RequestHeader.newBuilder().setID(1))
        .setAuthUserAdd(AuthUserAddRequest.newBuilder().setName("u").setPassword("secret")).build();
    io.kvorum.proto.serverpb.InternalRaftRequest k = ((EtcdEntries.Translated) EtcdEntries.translate(add, PASSWORDS)).request();
    assertThat(k.getAuthUserAdd().getName()).isEqualTo("u");
    assertThat(Passwords.matches(k.getAuthUserAdd().getHashedPassword().toByteArray(), "secret")).isTrue();
    assertThat(k.toByteString().toStringUtf8()).doesNotContain("secret");

    InternalRaftRequest noPw = InternalRaftRequest.newBuilder().setAuthUserAdd(AuthUserAddRequest.newBuilder()
        .setName("n").setOptions(UserAddOptions.newBuilder().setNoPassword(true))).build();
    assertThat(((EtcdEntries.Translated) EtcdEntries.translate(noPw, PASSWORDS)).request().getAuthUserAdd()
        .getHashedPassword().isEmpty()).isTrue();

    InternalRaftRequest change = InternalRaftRequest.newBuilder().setAuthUserChangePassword(
        AuthUserChangePasswordRequest.newBuilder().setName("u").setPassword("other")).build();
    io.kvorum.proto.serverpb.InternalRaftRequest c = ((EtcdEntries.Translated) EtcdEntries.translate(change, PASSWORDS)).request();
    assertThat(Passwords.matches(c.getAuthUserChangePassword().getHashedPassword().toByteArray(), "other")).isTrue();
  }

  @Test
  void translate_authenticate_keepsTheTokenPrefixAndDropsThePassword() {
    InternalRaftRequest a = InternalRaftRequest.newBuilder().setHeader(RequestHeader.newBuilder().setID(2))
        .setAuthenticate(InternalAuthenticateRequest.newBuilder().setName("root").setPassword("pw").setSimpleToken("abcdEFGH"))
        .build();
    io.kvorum.proto.serverpb.InternalRaftRequest k = ((EtcdEntries.Translated) EtcdEntries.translate(a, PASSWORDS)).request();
    assertThat(k.getAuthenticate().getName()).isEqualTo("root");
    assertThat(k.getAuthenticate().getSimpleTokenPrefix()).isEqualTo("abcdEFGH");
    assertThat(k.toByteString().toStringUtf8()).doesNotContain("pw");
  }

  @Test
  void translate_emptyRequest_isRefused() {
    assertThat(EtcdEntries.translate(InternalRaftRequest.getDefaultInstance(), PASSWORDS))
        .isInstanceOf(EtcdEntries.Refused.class);
  }
}
