package io.kvorum.server.etcddata;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdraftpb.ConfState;
import io.kvorum.proto.etcdraftpb.Snapshot;
import io.kvorum.proto.etcdraftpb.SnapshotMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/** Writes .snap files and v2 store JSON shaped as etcd 3.4 writes them. */
public final class SnapFixture {
  private SnapFixture() {}

  public static Snapshot snapshot(long index, long term, String storeJson, long... voters) {
    ConfState.Builder cs = ConfState.newBuilder();
    for (long v : voters) {
      cs.addVoters(v);
    }
    return Snapshot.newBuilder().setData(ByteString.copyFromUtf8(storeJson))
        .setMetadata(SnapshotMetadata.newBuilder().setIndex(index).setTerm(term).setConfState(cs)).build();
  }

  public static Path write(Path snapDir, Snapshot s) throws IOException {
    byte[] data = s.toByteArray();
    CRC32C crc = new CRC32C();
    crc.update(data);
    io.kvorum.proto.snappb.Snapshot env = io.kvorum.proto.snappb.Snapshot.newBuilder()
        .setCrc((int) crc.getValue()).setData(ByteString.copyFrom(data)).build();
    Files.createDirectories(snapDir);
    Path p = snapDir.resolve(String.format("%016x-%016x.snap", s.getMetadata().getTerm(), s.getMetadata().getIndex()));
    Files.write(p, env.toByteArray());
    return p;
  }

  /** A v2 store JSON with the given members ({id hex, peer URL, name or null, learner}), removed ids and version. */
  public static String storeJson(String version, String[] removed, Object[]... members) {
    StringBuilder ms = new StringBuilder();
    for (Object[] m : members) {
      String id = (String) m[0];
      if (ms.length() > 0) {
        ms.append(',');
      }
      String raft = "{\\\"peerURLs\\\":[\\\"" + m[1] + "\\\"]" + (Boolean.TRUE.equals(m[3]) ? ",\\\"isLearner\\\":true" : "") + "}";
      ms.append('"').append(id).append("\":{\"Path\":\"/0/members/").append(id)
          .append("\",\"CreatedIndex\":1,\"ModifiedIndex\":1,\"ExpireTime\":\"0001-01-01T00:00:00Z\",\"Value\":\"\",\"Children\":{")
          .append("\"raftAttributes\":{\"Path\":\"/0/members/").append(id).append("/raftAttributes\",\"Value\":\"")
          .append(raft).append("\",\"Children\":null}");
      if (m[2] != null) {
        ms.append(",\"attributes\":{\"Path\":\"/0/members/").append(id).append("/attributes\",\"Value\":\"{\\\"name\\\":\\\"")
            .append(m[2]).append("\\\",\\\"clientURLs\\\":[\\\"http://c/").append(m[2]).append("\\\"]}\",\"Children\":null}");
      }
      ms.append("}}");
    }
    StringBuilder rs = new StringBuilder();
    for (String r : removed) {
      if (rs.length() > 0) {
        rs.append(',');
      }
      rs.append('"').append(r).append("\":{\"Path\":\"/0/removed_members/").append(r).append("\",\"Value\":\"removed\",\"Children\":null}");
    }
    String ver = version == null ? "" : ",\"version\":{\"Path\":\"/0/version\",\"Value\":\"" + version + "\",\"Children\":null}";
    return "{\"Root\":{\"Path\":\"/\",\"CreatedIndex\":0,\"ModifiedIndex\":0,\"ExpireTime\":\"0001-01-01T00:00:00Z\",\"Value\":\"\","
        + "\"Children\":{\"0\":{\"Path\":\"/0\",\"Value\":\"\",\"Children\":{\"members\":{\"Path\":\"/0/members\",\"Value\":\"\",\"Children\":{"
        + ms + "}},\"removed_members\":{\"Path\":\"/0/removed_members\",\"Children\":{" + rs + "}}" + ver + "}},"
        + "\"1\":{\"Path\":\"/1\",\"Value\":\"\",\"Children\":{}}}},\"WatcherHub\":{\"EventHistory\":null},\"CurrentIndex\":3,"
        + "\"Stats\":{},\"CurrentVersion\":2}";
  }

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
