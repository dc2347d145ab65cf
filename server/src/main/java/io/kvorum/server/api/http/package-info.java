/**
 * The HTTP side of the client port, as etcd serves it beside gRPC: the JSON gateway ({@code /v3/},
 * {@code /v3beta/}), {@code /health}, {@code /version} and {@code /metrics}, and the metrics URLs.
 */
package io.kvorum.server.api.http;
