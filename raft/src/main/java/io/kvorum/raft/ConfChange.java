package io.kvorum.raft;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A membership change (etcd's ConfChangeV2). An empty change with {@link ConfChangeTransition#AUTO}
 * leaves a joint configuration. {@code context} is application data carried with the change (etcd
 * puts the member's peer URLs there).
 *
 * <p>Byte layout of {@link #encode()} (big-endian), written to {@link EntryType#CONF_CHANGE} entries:
 * {@code u8 version=1, u8 transition ordinal, u32 n, n × (u8 type ordinal, u64 nodeId), u32 ctxLen,
 * ctx bytes}.
 */
public record ConfChange(ConfChangeTransition transition, List<ConfChangeSingle> changes, byte[] context) {
  private static final int VERSION = 1;
  /** A bound on decoded change counts so a corrupt entry cannot allocate without limit. */
  private static final int CHANGES_MAX = 1 << 16;

  public ConfChange {
    transition = transition == null ? ConfChangeTransition.AUTO : transition;
    changes = List.copyOf(changes);
    context = context == null ? new byte[0] : context;
  }

  public static ConfChange of(ConfChangeType type, long nodeId) {
    return new ConfChange(ConfChangeTransition.AUTO, List.of(new ConfChangeSingle(type, nodeId)), null);
  }

  public static ConfChange leaveJoint() {
    return new ConfChange(ConfChangeTransition.AUTO, List.of(), null);
  }

  /** True for the empty change that asks to leave a joint configuration. */
  public boolean isLeaveJoint() {
    return changes.isEmpty();
  }

  /**
   * Whether applying this change enters a joint configuration, and whether it is left
   * automatically.
   */
  boolean entersJoint() {
    return transition != ConfChangeTransition.AUTO || changes.size() > 1;
  }

  boolean autoLeave() {
    return entersJoint() && transition != ConfChangeTransition.JOINT_EXPLICIT;
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + changes.size() * 9 + context.length);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(transition.ordinal());
      out.writeInt(changes.size());
      for (ConfChangeSingle c : changes) {
        out.writeByte(c.type().ordinal());
        out.writeLong(c.nodeId());
      }
      out.writeInt(context.length);
      out.write(context);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes {@link #encode()}'s layout; a malformed payload is an {@link IllegalArgumentException}. */
  public static ConfChange decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown conf change encoding version " + version);
      }
      ConfChangeTransition transition = ConfChangeTransition.values()[in.readUnsignedByte()];
      int n = in.readInt();
      if (n < 0 || n > CHANGES_MAX) {
        throw new IllegalArgumentException("conf change count out of range: " + n);
      }
      List<ConfChangeSingle> changes = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ConfChangeType type = ConfChangeType.values()[in.readUnsignedByte()];
        changes.add(new ConfChangeSingle(type, in.readLong()));
      }
      int len = in.readInt();
      if (len < 0 || len > data.length) {
        throw new IllegalArgumentException("conf change context length out of range: " + len);
      }
      byte[] ctx = in.readNBytes(len);
      if (ctx.length != len) {
        throw new IllegalArgumentException("conf change context truncated");
      }
      return new ConfChange(transition, changes, ctx);
    } catch (IOException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("malformed conf change: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfChange c
        && c.transition == transition
        && c.changes.equals(changes)
        && java.util.Arrays.equals(c.context, context);
  }

  @Override
  public int hashCode() {
    return changes.hashCode() * 31 + transition.hashCode();
  }
}
