/**
 * The operating system's scheduling of the member's threads: work that must yield to the write
 * path (long reads) runs at a lower priority, so it takes idle cores but never a write's.
 */
package io.kvorum.server.sched;
