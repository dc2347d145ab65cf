/** Users, roles and key permissions (etcd's auth store), and the tokens that name a user. */
package io.kvorum.server.auth;
