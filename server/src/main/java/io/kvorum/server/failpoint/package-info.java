/**
 * Failpoints: named places in the server where a robustness test makes a member crash, pause or
 * misbehave on purpose; inert unless {@code KVORUM_FAILPOINTS} is set, as etcd's gofail points
 * are inert in a release build.
 */
package io.kvorum.server.failpoint;
