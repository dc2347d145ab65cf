/**
 * Applying committed requests to the state machine, deterministically: the same entries in the
 * same order give the same state and the same responses on every member.
 */
package io.kvorum.server.apply;
