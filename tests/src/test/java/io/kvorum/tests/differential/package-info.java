/**
 * The differential suite: one catalogue of request scenarios run against a real etcd 3.4.23 and
 * against Kvorum, with every response compared field by field after normalising only what
 * legitimately differs (member and cluster ids, terms, raft indexes, sizes, timing, server-chosen
 * lease ids).
 */
package io.kvorum.tests.differential;
