package io.kvorum.tests.differential;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Every scenario of the differential suite, by service. */
final class Catalogue {
  private Catalogue() {}

  static List<Scenario> all() {
    List<Scenario> all = new ArrayList<>();
    all.addAll(KvScenarios.all());
    all.addAll(TxnScenarios.all());
    all.addAll(WatchScenarios.all());
    all.addAll(LeaseScenarios.all());
    all.addAll(MaintenanceScenarios.all());
    all.addAll(QuotaScenarios.all());
    all.addAll(ClusterScenarios.all());
    all.addAll(AuthScenarios.all());
    all.addAll(GatewayScenarios.all());
    all.addAll(ElectionScenarios.all());
    all.addAll(DeliberateScenarios.all());
    Set<String> names = new HashSet<>();
    for (Scenario s : all) {
      if (!names.add(s.prefix())) {
        throw new IllegalStateException("two scenarios share the key prefix " + s.prefix());
      }
    }
    return all;
  }
}
