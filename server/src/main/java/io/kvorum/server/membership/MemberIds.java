package io.kvorum.server.membership;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * etcd's id derivation. A member id is the first 8 bytes (big-endian) of SHA-1 over its sorted
 * peer URLs concatenated, then the cluster token, then (for members added at runtime) the Unix time
 * in decimal. A cluster id is the first 8 bytes of SHA-1 over the sorted member ids, each as 8
 * big-endian bytes. Clients and etcd's own tests compare these values, so they must not drift.
 */
public final class MemberIds {
  private MemberIds() {}

  /** The id of a member bootstrapped from {@code --initial-cluster} (no time component). */
  public static long memberId(Collection<String> peerUrls, String clusterToken) {
    return memberId(peerUrls, clusterToken, null);
  }

  /** The id of a member; {@code unixSeconds} is set for members added at runtime. */
  public static long memberId(Collection<String> peerUrls, String clusterToken, Long unixSeconds) {
    List<String> sorted = new ArrayList<>(peerUrls);
    sorted.sort(null);
    StringBuilder sb = new StringBuilder();
    for (String u : sorted) {
      sb.append(u);
    }
    sb.append(clusterToken);
    if (unixSeconds != null) {
      sb.append(unixSeconds.longValue());
    }
    return first8(sha1(sb.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** The cluster id of a set of member ids. */
  public static long clusterId(Collection<Long> memberIds) {
    long[] ids = memberIds.stream().mapToLong(Long::longValue).toArray();
    // Go sorts uint64 values: compare unsigned.
    Long[] boxed = Arrays.stream(ids).boxed().toArray(Long[]::new);
    Arrays.sort(boxed, Long::compareUnsigned);
    ByteBuffer b = ByteBuffer.allocate(8 * boxed.length);
    for (long id : boxed) {
      b.putLong(id);
    }
    return first8(sha1(b.array()));
  }

  /** The id as etcd prints it (lowercase hex, no padding). */
  public static String toHex(long id) {
    return Long.toHexString(id);
  }

  private static byte[] sha1(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-1", e);
    }
  }

  private static long first8(byte[] h) {
    return ByteBuffer.wrap(h, 0, 8).getLong();
  }
}
