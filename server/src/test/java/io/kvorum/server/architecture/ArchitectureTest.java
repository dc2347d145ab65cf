package io.kvorum.server.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's shape, checked on its compiled classes: one clock, each library's types behind
 * one package (RocksDB, gRPC, Prometheus), no cycles between packages.
 */
class ArchitectureTest {
  private static JavaClasses server;

  @BeforeAll
  static void importServer() {
    server = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.kvorum.server");
  }

  @Test
  void timeIsRead_onlyThroughTheClock() {
    // The failpoint package is the one exception: its sleep(ms) is the fault (a slow disk, a slow
    // peer) and must take real time; it is inert unless a test sets failpoints.
    noClasses().that().resideOutsideOfPackages("io.kvorum.server.clock..", "io.kvorum.server.failpoint..")
        .should().callMethod(System.class, "nanoTime")
        .orShould().callMethod(System.class, "currentTimeMillis")
        .orShould().callMethod(java.time.Instant.class, "now")
        .orShould().callMethod(Thread.class, "sleep", long.class)
        .because("every time read and timer goes through the member's injected clock")
        .check(server);
  }

  @Test
  void rocksDb_staysInStorage() {
    noClasses().that().resideOutsideOfPackage("io.kvorum.server.storage..")
        .should().dependOnClassesThat().resideInAPackage("org.rocksdb..")
        .check(server);
  }

  @Test
  void grpc_staysAtTheEdgeAndInTheTransport() {
    noClasses().that().resideOutsideOfPackages("io.kvorum.server.api..", "io.kvorum.server.transport..")
        .should().dependOnClassesThat().resideInAPackage("io.grpc..")
        .check(server);
  }

  @Test
  void prometheus_staysInMetrics() {
    noClasses().that().resideOutsideOfPackage("io.kvorum.server.metrics..")
        .should().dependOnClassesThat().resideInAPackage("io.prometheus..")
        .because("the member's parts report through small interfaces they declare; only metrics knows the library")
        .check(server);
  }

  @Test
  void apply_knowsNothingOfTheMember() {
    noClasses().that().resideInAPackage("io.kvorum.server.apply..")
        .should().dependOnClassesThat().resideInAnyPackage("io.kvorum.server.etcdserver..", "io.kvorum.server.api..",
            "io.kvorum.server.replication..", "io.kvorum.server.transport..")
        .check(server);
  }

  @Test
  void packages_formNoCycles() {
    slices().matching("io.kvorum.server.(*)..").should().beFreeOfCycles().check(server);
  }
}
