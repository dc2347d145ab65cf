/**
 * Time for the whole member: one injected clock reads the time and runs every timer, so server
 * tests drive time with a fake clock instead of sleeping.
 */
package io.kvorum.server.clock;
