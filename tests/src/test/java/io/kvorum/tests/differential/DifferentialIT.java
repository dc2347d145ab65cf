package io.kvorum.tests.differential;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3lockpb.LockGrpc;
import io.kvorum.server.errors.EtcdError;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The catalogue against a real etcd 3.4.23 and Kvorum, one dynamic test per scenario, then two
 * checks over the whole run: every RPC of every service has a scenario (or is listed as pending
 * with the issue that builds it), and no error Kvorum sent carries an internal exception's text.
 */
class DifferentialIT {
  /**
   * RPCs with no scenario yet because the service is not built: this list only shrinks. The
   * coverage check fails on an RPC neither covered nor listed, and on a listed RPC that is covered.
   */
  static final Set<String> PENDING = Set.of();

  /** Text that only a Java exception would put in an error description. */
  static final Pattern INTERNAL_TEXT = Pattern.compile(
      "java\\.|javax\\.|io\\.kvorum|Exception|\\bat [a-z]+\\.|\\bnull\\b|must be >=|got -?\\d");

  @BeforeAll
  static void etcdInstalled() throws Exception {
    Side.checkEtcd();
  }

  @AfterAll
  static void stopServers() {
    Pair.closeAll();
  }

  @TestFactory
  Stream<DynamicTest> catalogue() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Scenario s : Catalogue.all()) {
      tests.add(DynamicTest.dynamicTest(s.topology() + " " + s.name(), () -> Comparison.run(s)));
    }
    tests.add(DynamicTest.dynamicTest("every RPC has a scenario", DifferentialIT::coverage));
    tests.add(DynamicTest.dynamicTest("no internal exception text reaches a client", DifferentialIT::errorTexts));
    return tests.stream();
  }

  static List<ServiceDescriptor> services() {
    return List.of(KVGrpc.getServiceDescriptor(), WatchGrpc.getServiceDescriptor(), LeaseGrpc.getServiceDescriptor(),
        ClusterGrpc.getServiceDescriptor(), MaintenanceGrpc.getServiceDescriptor(), AuthGrpc.getServiceDescriptor(),
        ElectionGrpc.getServiceDescriptor(), LockGrpc.getServiceDescriptor());
  }

  static void coverage() {
    Set<String> all = new TreeSet<>();
    for (ServiceDescriptor sd : services()) {
      for (MethodDescriptor<?, ?> m : sd.getMethods()) {
        all.add(m.getFullMethodName());
      }
    }
    Set<String> uncovered = new TreeSet<>(all);
    uncovered.removeAll(Recorder.CALLED);
    uncovered.removeAll(PENDING);
    Set<String> coveredButPending = new TreeSet<>(PENDING);
    coveredButPending.retainAll(Recorder.CALLED);
    Set<String> unknownPending = new TreeSet<>(PENDING);
    unknownPending.removeAll(all);
    assertThat(uncovered).as("RPCs no scenario called (add scenarios to the catalogue)").isEmpty();
    assertThat(coveredButPending).as("RPCs that now have scenarios: remove them from PENDING").isEmpty();
    assertThat(unknownPending).as("PENDING names RPCs that do not exist").isEmpty();
  }

  static void errorTexts() {
    Set<String> known = new HashSet<>(Comparison.ETCD_ERRORS);
    for (EtcdError e : EtcdError.values()) {
      known.add(e.message());
    }
    List<String> bad = new ArrayList<>();
    for (String err : new TreeSet<>(Comparison.KVORUM_ERRORS)) {
      String description = err.substring(err.indexOf(": ") + 2, err.lastIndexOf("   ("));
      if (INTERNAL_TEXT.matcher(description).find() || !known.contains(description)) {
        bad.add(err);
      }
    }
    assertThat(Comparison.KVORUM_ERRORS).as("the run observed errors to check").isNotEmpty();
    assertThat(bad).as("Kvorum errors that are neither etcd's text nor seen from etcd in this run").isEmpty();
  }
}
