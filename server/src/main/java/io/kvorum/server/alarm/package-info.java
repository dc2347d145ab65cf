/** Alarms raised through the log (NOSPACE, CORRUPT), kept in the backend's alarm bucket. */
package io.kvorum.server.alarm;
