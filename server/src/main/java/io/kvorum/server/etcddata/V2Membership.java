package io.kvorum.server.etcddata;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An etcd 3.4 cluster's membership as its v2 store holds it: the data of a raft snapshot is the
 * v2 store marshalled to JSON ({@code {"Root": node, ...}}, each node {@code {"Path", "Value",
 * "Children": {name: node}}}), and the cluster lives under {@code /0}:
 * {@code /0/members/<hex id>/raftAttributes} ({@code {"peerURLs": [...], "isLearner": bool}}),
 * {@code /0/members/<hex id>/attributes} ({@code {"name": ..., "clientURLs": [...]}}),
 * {@code /0/removed_members/<hex id>} and {@code /0/version} ("3.4.0").
 *
 * <p>Immutable; the {@code with*} methods return the membership after one change applied as
 * etcd's {@code RaftCluster} applies it, or this one unchanged when etcd would refuse the change.
 */
public record V2Membership(Map<Long, EtcdMember> members, Set<Long> removed, Optional<String> clusterVersion) {
  public V2Membership {
    members = Collections.unmodifiableMap(new TreeMap<>(members));
    removed = Collections.unmodifiableSet(new TreeSet<>(removed));
  }

  /** No members, as before the first snapshot. */
  public static V2Membership empty() {
    return new V2Membership(Map.of(), Set.of(), Optional.empty());
  }

  /** The membership held by a v2 store's JSON (a raft snapshot's data). */
  public static V2Membership parse(byte[] storeJson) throws EtcdDataException {
    try {
      JsonObject root = JsonParser.parseString(new String(storeJson, StandardCharsets.UTF_8)).getAsJsonObject();
      JsonObject cluster = child(root.getAsJsonObject("Root"), "0");
      Map<Long, EtcdMember> members = new TreeMap<>();
      Set<Long> removed = new TreeSet<>();
      Optional<String> version = Optional.empty();
      if (cluster != null) {
        for (Map.Entry<String, JsonObject> m : children(child(cluster, "members")).entrySet()) {
          long id = parseId(m.getKey());
          JsonObject raft = child(m.getValue(), "raftAttributes");
          if (raft == null) {
            throw new EtcdDataException("v2 store: member " + m.getKey() + " has no raftAttributes");
          }
          JsonObject ra = JsonParser.parseString(raft.get("Value").getAsString()).getAsJsonObject();
          EtcdMember member = new EtcdMember(id, "", strings(ra.get("peerURLs")), List.of(), bool(ra.get("isLearner")));
          JsonObject attrs = child(m.getValue(), "attributes");
          if (attrs != null) {
            JsonObject a = JsonParser.parseString(attrs.get("Value").getAsString()).getAsJsonObject();
            member = member.withAttributes(string(a.get("name")), strings(a.get("clientURLs")));
          }
          members.put(id, member);
        }
        for (String r : children(child(cluster, "removed_members")).keySet()) {
          removed.add(parseId(r));
        }
        JsonObject v = child(cluster, "version");
        if (v != null && v.has("Value")) {
          version = Optional.of(v.get("Value").getAsString());
        }
      }
      return new V2Membership(members, removed, version);
    } catch (JsonParseException | IllegalStateException | ClassCastException | NullPointerException
        | UnsupportedOperationException | NumberFormatException e) {
      throw new EtcdDataException("v2 store JSON does not hold a membership: " + e, e);
    }
  }

  /** Parses the member JSON of a ConfChange context (membership.Member, or ConfigChangeContext). */
  static EtcdMember parseMemberJson(byte[] json, boolean[] isPromote) throws EtcdDataException {
    try {
      JsonObject o = JsonParser.parseString(new String(json, StandardCharsets.UTF_8)).getAsJsonObject();
      long id = o.get("id").getAsBigInteger().longValue();
      if (isPromote != null) {
        isPromote[0] = bool(o.get("isPromote"));
      }
      return new EtcdMember(id, string(o.get("name")), strings(o.get("peerURLs")), strings(o.get("clientURLs")),
          bool(o.get("isLearner")));
    } catch (JsonParseException | IllegalStateException | ClassCastException | NullPointerException
        | UnsupportedOperationException | NumberFormatException e) {
      throw new EtcdDataException("member JSON does not decode: " + e, e);
    }
  }

  /** Ids of the voting members. */
  public List<Long> voters() {
    List<Long> out = new ArrayList<>();
    members.values().stream().filter(m -> !m.isLearner()).forEach(m -> out.add(m.id()));
    return out;
  }

  /** Adds a member, unless its id is a member or removed, or it reuses a member's peer URL. */
  public V2Membership withAdded(EtcdMember m) {
    if (members.containsKey(m.id()) || removed.contains(m.id()) || peerUrlTaken(m.id(), m.peerUrls())) {
      return this;
    }
    Map<Long, EtcdMember> next = new TreeMap<>(members);
    next.put(m.id(), m);
    return new V2Membership(next, removed, clusterVersion);
  }

  /** Removes a member for good. */
  public V2Membership withRemoved(long id) {
    if (!members.containsKey(id)) {
      return this;
    }
    Map<Long, EtcdMember> next = new TreeMap<>(members);
    next.remove(id);
    Set<Long> gone = new TreeSet<>(removed);
    gone.add(id);
    return new V2Membership(next, gone, clusterVersion);
  }

  /** Replaces a member's peer URLs. */
  public V2Membership withPeerUrls(long id, List<String> peerUrls) {
    EtcdMember m = members.get(id);
    if (m == null || peerUrlTaken(id, peerUrls)) {
      return this;
    }
    return with(m.withRaftAttributes(peerUrls, m.isLearner()));
  }

  /** Makes a learner a voter. */
  public V2Membership withPromoted(long id) {
    EtcdMember m = members.get(id);
    if (m == null || !m.isLearner()) {
      return this;
    }
    return with(m.withRaftAttributes(m.peerUrls(), false));
  }

  /** A member's published name and client URLs; ignored for an id that is not a member. */
  public V2Membership withAttributes(long id, String name, List<String> clientUrls) {
    EtcdMember m = members.get(id);
    return m == null ? this : with(m.withAttributes(name, clientUrls));
  }

  public V2Membership withClusterVersion(String version) {
    return new V2Membership(members, removed, Optional.of(version));
  }

  private V2Membership with(EtcdMember m) {
    Map<Long, EtcdMember> next = new TreeMap<>(members);
    next.put(m.id(), m);
    return new V2Membership(next, removed, clusterVersion);
  }

  private boolean peerUrlTaken(long id, List<String> peerUrls) {
    for (EtcdMember other : members.values()) {
      if (other.id() != id && !Collections.disjoint(other.peerUrls(), peerUrls)) {
        return true;
      }
    }
    return false;
  }

  /** A v2 store key's last element as an etcd member id (hex, as {@code types.ID.String()}). */
  static long parseId(String hex) {
    return Long.parseUnsignedLong(hex, 16);
  }

  private static JsonObject child(JsonObject node, String name) {
    if (node == null) {
      return null;
    }
    JsonElement c = node.get("Children");
    if (c == null || c.isJsonNull()) {
      return null;
    }
    JsonElement n = c.getAsJsonObject().get(name);
    return n == null || n.isJsonNull() ? null : n.getAsJsonObject();
  }

  private static Map<String, JsonObject> children(JsonObject node) {
    Map<String, JsonObject> out = new TreeMap<>();
    if (node == null || node.get("Children") == null || node.get("Children").isJsonNull()) {
      return out;
    }
    for (Map.Entry<String, JsonElement> e : node.getAsJsonObject("Children").entrySet()) {
      out.put(e.getKey(), e.getValue().getAsJsonObject());
    }
    return out;
  }

  private static List<String> strings(JsonElement e) {
    List<String> out = new ArrayList<>();
    if (e != null && !e.isJsonNull()) {
      JsonArray a = e.getAsJsonArray();
      for (JsonElement s : a) {
        out.add(s.getAsString());
      }
    }
    return out;
  }

  private static String string(JsonElement e) {
    return e == null || e.isJsonNull() ? "" : e.getAsString();
  }

  private static boolean bool(JsonElement e) {
    return e != null && !e.isJsonNull() && e.getAsBoolean();
  }
}
