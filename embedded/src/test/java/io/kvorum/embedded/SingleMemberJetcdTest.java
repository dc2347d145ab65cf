package io.kvorum.embedded;

import io.kvorum.embedded.junit.KvorumClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The jetcd contract on one member, started once for the class. */
class SingleMemberJetcdTest extends JetcdContract {
  @RegisterExtension
  static final KvorumClusterExtension CLUSTER = KvorumClusterExtension.builder().withNodes(1).build();

  @Override
  KvorumClusterExtension cluster() {
    return CLUSTER;
  }
}
