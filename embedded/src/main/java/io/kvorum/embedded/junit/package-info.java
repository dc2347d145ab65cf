/** A JUnit 5 extension that runs an embedded Kvorum cluster around a test class or each test method. */
package io.kvorum.embedded.junit;
