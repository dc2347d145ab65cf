package io.kvorum.server.api.http;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import io.kvorum.server.gojson.GoJsonException;
import io.kvorum.server.gojson.GoStrconv;
import io.kvorum.server.gojson.GoValues;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A gateway request's JSON read into its message as etcd 3.4's gateway reads it: golang/protobuf's
 * jsonpb ({@code AllowUnknownFields}) over Go's {@code encoding/json}, so that what etcd accepts is
 * accepted the same way and what it refuses is refused with the same words. In short:
 *
 * <ul>
 *   <li>a message is a JSON object (anything else: {@code json: cannot unmarshal array into Go value
 *       of type map[string]json.RawMessage}); {@code null} is the empty message; a field is found
 *       by its {@code .proto} name or its JSON name (the JSON name wins when both are there);
 *       unknown keys are ignored; fields are read in declaration order and the first error wins,
 *       then the oneof members;
 *   <li>integers as numbers or as strings (the quotes are cut off and the rest read as JSON, so
 *       {@code "x"} fails as {@code invalid character 'x' looking for beginning of value});
 *   <li>enums by name (an unknown name: {@code unknown value "X" for enum etcdserverpb.T}) or by
 *       number (any int32);
 *   <li>bytes as padded standard base64 or an array of byte values; {@code null} leaves a field
 *       unset.
 * </ul>
 */
final class JsonPbParser {
  /** protobuf-java's parse depth, beyond which a gRPC client's request would be refused too. */
  static final int MESSAGE_DEPTH_MAX = 100;

  /** A request the gateway cannot pass on; {@link #decoding} tells how etcd's gateway answers it. */
  static final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean decoding;

    RefusedException(String message, boolean decoding) {
      super(message);
      this.decoding = decoding;
    }

    /**
     * True for a JSON decoding error (etcd answers it before any call); false for a message the
     * call itself would fail on (etcd's gRPC client refuses to send it: {@code INTERNAL}).
     */
    boolean decoding() {
      return decoding;
    }
  }

  private JsonPbParser() {}

  /** {@code raw}, one complete JSON value, as a new message of {@code prototype}'s type. */
  static Message parse(Message prototype, byte[] raw) throws RefusedException {
    Message.Builder b = prototype.newBuilderForType();
    try {
      // The decoder framed the value, so it is valid JSON: only types are checked from here on.
      merge(b, raw, 1);
    } catch (GoJsonException e) {
      throw new RefusedException(e.getMessage(), true);
    }
    return b.build();
  }

  private static void merge(Message.Builder b, byte[] raw, int depth) throws GoJsonException, RefusedException {
    if (depth > MESSAGE_DEPTH_MAX) {
      throw new RefusedException("grpc: error unmarshalling request: Protocol message had too many levels of"
          + " nesting.  May be malicious.  Use CodedInputStream.setRecursionLimit() to increase the depth"
          + " limit.", false);
    }
    Map<String, byte[]> fields = GoValues.object(raw, true);
    if (fields == null) {
      return;
    }
    Descriptor d = b.getDescriptorForType();
    for (FieldDescriptor f : d.getFields()) {
      OneofDescriptor oneof = f.getRealContainingOneof();
      if (oneof != null) {
        if (oneof.getField(0) == f) {
          // Go's struct holds the oneof as an interface field named after it, which no JSON fits.
          byte[] v = consume(fields, oneof.getName(), oneof.getName());
          if (v != null && !isNull(v)) {
            throw new GoJsonException("json: cannot unmarshal " + kindName(v) + " into Go value of type "
                + goPackage(d.getFile().getPackage()) + ".is" + goName(d) + "_" + camel(oneof.getName()));
          }
        }
        continue;
      }
      byte[] v = consume(fields, f.getName(), f.getJsonName());
      if (v != null) {
        field(b, f, v, depth);
      }
    }
    if (fields.isEmpty()) {
      return;
    }
    for (OneofDescriptor oneof : d.getRealOneofs()) {
      for (FieldDescriptor f : oneof.getFields()) {
        byte[] v = consume(fields, f.getName(), f.getJsonName());
        if (v == null) {
          continue;
        }
        // Go replaces the oneof's wrapper: an earlier member goes, and a null message leaves none.
        b.clearOneof(oneof);
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          if (!isNull(v)) {
            b.setField(f, message(b, f, v, depth));
          }
        } else {
          Object value = scalar(f, v);
          b.setField(f, value == null ? f.getDefaultValue() : value);
        }
      }
    }
  }

  private static void field(Message.Builder b, FieldDescriptor f, byte[] v, int depth)
      throws GoJsonException, RefusedException {
    if (f.isRepeated()) {
      List<byte[]> elements = GoValues.array(v, true);
      if (elements == null) {
        return;
      }
      b.clearField(f);
      for (byte[] e : elements) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          if (isNull(e)) {
            // jsonpb leaves a nil element in the slice, and etcd's gateway drops the connection
            // without an answer when it then sends the request; Kvorum refuses it as bad input.
            throw new GoJsonException("proto: repeated field " + camel(f.getName()) + " has nil element");
          }
          b.addRepeatedField(f, message(b, f, e, depth));
        } else {
          Object value = scalar(f, e);
          b.addRepeatedField(f, value == null ? f.getDefaultValue() : value);
        }
      }
      return;
    }
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      if (isNull(v)) {
        return;
      }
      b.setField(f, message(b, f, v, depth));
      return;
    }
    Object value = scalar(f, v);
    if (value != null) {
      b.setField(f, value);
    }
  }

  /** A message field's value, one level deeper. */
  private static Message message(Message.Builder parent, FieldDescriptor f, byte[] v, int depth)
      throws GoJsonException, RefusedException {
    Message.Builder sub = parent.newBuilderForField(f);
    merge(sub, v, depth + 1);
    return sub.build();
  }

  /** One scalar value of {@code f}'s type; null for JSON {@code null} (the field stays as it was). */
  private static Object scalar(FieldDescriptor f, byte[] v) throws GoJsonException {
    if (f.getJavaType() == FieldDescriptor.JavaType.ENUM) {
      return enumValue(f.getEnumType(), v);
    }
    boolean numeric = switch (f.getJavaType()) {
      case INT, LONG, FLOAT, DOUBLE -> true;
      default -> false;
    };
    if (numeric && v.length > 0 && v[0] == '"') {
      // jsonpb reads a quoted number by cutting the quotes off and reading the rest as JSON.
      v = Arrays.copyOfRange(v, 1, v.length - 1);
    }
    return switch (f.getType()) {
      case INT32, SINT32, SFIXED32 -> toInt(GoValues.integer(v, 32, false, "int32"));
      case UINT32, FIXED32 -> toInt(GoValues.integer(v, 32, true, "uint32"));
      case INT64, SINT64, SFIXED64 -> GoValues.integer(v, 64, false, "int64");
      case UINT64, FIXED64 -> GoValues.integer(v, 64, true, "uint64");
      case FLOAT -> toFloat(GoValues.floating(v, true));
      case DOUBLE -> GoValues.floating(v, false);
      case BOOL -> GoValues.bool(v);
      case STRING -> GoValues.string(v);
      case BYTES -> {
        byte[] bytes = GoValues.bytes(v);
        yield bytes == null ? null : com.google.protobuf.ByteString.copyFrom(bytes);
      }
      default -> throw new IllegalStateException("no JSON mapping for " + f.getType());
    };
  }

  private static EnumValueDescriptor enumValue(EnumDescriptor e, byte[] v) throws GoJsonException {
    String goType = goPackage(e.getFile().getPackage()) + "." + goName(e);
    if (v.length > 0 && v[0] == '"') {
      // The name between the quotes, as written (escapes are not resolved).
      byte[] name = Arrays.copyOfRange(v, 1, v.length - 1);
      EnumValueDescriptor value = e.findValueByName(new String(name, StandardCharsets.UTF_8));
      if (value == null || !Arrays.equals(name, value.getName().getBytes(StandardCharsets.UTF_8))) {
        throw new GoJsonException("unknown value " + GoStrconv.quote(name) + " for enum " + goType);
      }
      return value;
    }
    Long n = GoValues.integer(v, 32, false, goType);
    return n == null ? null : e.findValueByNumberCreatingIfUnknown((int) (long) n);
  }

  private static byte[] consume(Map<String, byte[]> fields, String orig, String json) {
    byte[] byOrig = fields.remove(orig);
    byte[] byJson = fields.remove(json);
    return byJson != null ? byJson : byOrig;
  }

  private static boolean isNull(byte[] v) {
    return v.length == 4 && v[0] == 'n';
  }

  private static String kindName(byte[] v) {
    return switch (v[0]) {
      case '{' -> "object";
      case '[' -> "array";
      case '"' -> "string";
      case 't', 'f' -> "bool";
      default -> "number";
    };
  }

  /** The Go package of a {@code .proto} package (etcd's are one word: {@code etcdserverpb}). */
  private static String goPackage(String protoPackage) {
    return protoPackage.substring(protoPackage.lastIndexOf('.') + 1);
  }

  /** protoc-gen-go's name of a nested type: the enclosing names joined with underscores. */
  private static String goName(Descriptor d) {
    return d.getContainingType() == null ? d.getName() : goName(d.getContainingType()) + "_" + d.getName();
  }

  private static String goName(EnumDescriptor e) {
    return e.getContainingType() == null ? e.getName() : goName(e.getContainingType()) + "_" + e.getName();
  }

  /** protoc-gen-go's CamelCase of a field or oneof name. */
  private static String camel(String name) {
    StringBuilder sb = new StringBuilder();
    boolean up = true;
    for (char c : name.toCharArray()) {
      if (c == '_') {
        up = true;
        continue;
      }
      sb.append(up ? Character.toUpperCase(c) : c);
      up = false;
    }
    return sb.toString();
  }

  private static Integer toInt(Long v) {
    return v == null ? null : (int) (long) v;
  }

  private static Float toFloat(Double v) {
    return v == null ? null : (float) (double) v;
  }
}
