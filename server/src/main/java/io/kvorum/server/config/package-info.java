/** Member configuration: typed values with units and etcd's defaults, validated eagerly with etcd's messages. */
package io.kvorum.server.config;
