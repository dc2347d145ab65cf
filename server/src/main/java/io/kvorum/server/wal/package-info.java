/**
 * The write-ahead log: raft's hard state and entries, appended in CRC-checked records to segment
 * files and fsynced before a member acknowledges them; recovered (with a torn tail cut off) on start.
 */
package io.kvorum.server.wal;
