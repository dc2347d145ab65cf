package io.kvorum.embedded;

import io.kvorum.embedded.junit.KvorumClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The jetcd contract on three members in this JVM, started once for the class. */
class ThreeMemberJetcdTest extends JetcdContract {
  @RegisterExtension
  static final KvorumClusterExtension CLUSTER = KvorumClusterExtension.builder().withNodes(3).build();

  @Override
  KvorumClusterExtension cluster() {
    return CLUSTER;
  }
}
