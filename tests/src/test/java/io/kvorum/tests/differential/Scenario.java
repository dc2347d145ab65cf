package io.kvorum.tests.differential;

/** One entry of the catalogue: a named sequence of requests, run the same way on both sides. */
record Scenario(String name, Topology topology, Body body) {
  /** What the scenario does with the side's recording client. */
  @FunctionalInterface
  interface Body {
    void run(Recorder c) throws Exception;
  }

  static Scenario single(String name, Body body) {
    return new Scenario(name, Topology.SINGLE, body);
  }

  static Scenario cluster(String name, Body body) {
    return new Scenario(name, Topology.CLUSTER, body);
  }

  /** The key prefix of this scenario: its name, so keys of different scenarios never meet. */
  String prefix() {
    return name.replaceAll("[^A-Za-z0-9]+", "-") + "/";
  }
}
