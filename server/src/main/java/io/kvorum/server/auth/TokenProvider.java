package io.kvorum.server.auth;

/**
 * The kind of token {@code --auth-token} names (etcd's {@code TokenProvider}): {@code simple} —
 * random tokens every member registers when it applies the authentication, each with its own
 * time to live, lost on restart — or {@code jwt} — signed tokens any member can verify by itself.
 *
 * <p>An authentication runs in two halves: the entry that authenticates is applied on every member
 * ({@link #register}, where a simple token becomes valid everywhere), and the member that proposed
 * it then hands the token to the client ({@link #issue}, where a JWT is signed). Implementations
 * are thread-safe; none logs a token.
 */
public interface TokenProvider {
  /**
   * A random prefix for a simple token, proposed with the authentication; the applied entry's
   * index completes it ({@code prefix.index}). Empty for a JWT.
   */
  String newPrefix();

  /**
   * Applies an authentication of {@code user} on this member (apply thread, on every member).
   *
   * @param prefix what {@link #newPrefix} gave the proposer
   * @param index the log index of the entry that authenticates
   * @return the simple token so registered, or empty for a JWT
   */
  String register(String user, String prefix, long index);

  /**
   * The token the client gets, on the member that proposed the authentication, once it applied.
   *
   * @param registered what {@link #register} returned for the entry
   * @param revision the auth store's revision when the entry was applied
   * @throws io.kvorum.server.errors.EtcdException with {@code AUTH_VERIFY_ONLY} when a JWT
   *     provider has no private key
   */
  String issue(String user, long revision, String registered);

  /**
   * The log index this member must have applied before {@code token} can be known here (a simple
   * token is registered when its entry applies); 0 when no wait is needed.
   */
  long appliedIndexNeeded(String token);

  /**
   * Who {@code token} names, or null when it is not valid here: unknown, expired, forged or
   * malformed. Using a simple token restarts its time to live.
   *
   * @param currentRevision the auth store's revision now (what a simple token stands for)
   */
  AuthInfo info(String token, long currentRevision);

  /** Auth was enabled (applied, or found enabled at start). */
  void enable();

  /** Auth was disabled: every simple token is forgotten. */
  void disable();

  /** The user was deleted or its password changed: its simple tokens are forgotten. */
  void invalidateUser(String user);
}
