/**
 * Checks recorded client histories against etcd's contract: per-key linearizability of a register
 * model, global revision order across keys, and the order and completeness of watch streams.
 */
package io.kvorum.tests.robustness.check;
