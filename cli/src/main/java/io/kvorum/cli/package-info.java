/** The etcd-compatible command line: flags, ETCD_* environment variables, the launcher's main. */
package io.kvorum.cli;
