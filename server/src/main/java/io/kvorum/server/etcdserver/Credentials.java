package io.kvorum.server.etcdserver;

/**
 * What a client call presents to say who it is, as the API edge finds it: the {@code token} in the
 * call's metadata (or {@code authorization}, as etcd also reads), and the Common Name of the client
 * certificate the member verified. Resolved to a user by {@link AuthServer#identify}.
 *
 * @param token the token, or null when the call carries none
 * @param commonName the verified client certificate's Common Name, or null without one
 * @param viaGateway whether the call came through the JSON gateway (whose certificate names the
 *     gateway, never the user: its Common Name is not used, as in etcd)
 */
public record Credentials(String token, String commonName, boolean viaGateway) {
  public static final Credentials NONE = new Credentials(null, null, false);
}
