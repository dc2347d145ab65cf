/**
 * A deterministic, seeded simulation of whole raft clusters in one thread: a lossy network, crashes,
 * membership changes and client load, with a checker of raft's safety properties after every step.
 * Every failure names its seed and replays exactly from it.
 */
package io.kvorum.raft.sim;
