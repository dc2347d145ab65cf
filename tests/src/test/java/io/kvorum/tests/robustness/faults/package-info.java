/**
 * Faults for process clusters: members in network namespaces with partitions and one-way loss
 * between them, peer message delay, loss and reordering through the members' failpoints, and a
 * small real disk that fills up.
 */
package io.kvorum.tests.robustness.faults;
