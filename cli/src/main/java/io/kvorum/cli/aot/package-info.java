/** The training run behind the JVM's ahead-of-time cache: a short representative load on in-process members. */
package io.kvorum.cli.aot;
