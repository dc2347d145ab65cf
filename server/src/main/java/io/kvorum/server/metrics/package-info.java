/**
 * The member's Prometheus metrics, named, labelled and typed as etcd 3.4 exports them, rendered in
 * the text exposition format; the only package that knows the Prometheus client library.
 */
package io.kvorum.server.metrics;
