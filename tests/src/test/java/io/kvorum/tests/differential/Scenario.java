package io.kvorum.tests.differential;

/**
 * One entry of the catalogue: a named sequence of requests, run the same way on both sides. A
 * scenario with {@code documented} set covers a place where Kvorum differs from etcd on purpose:
 * it runs on Kvorum only, asserts the behaviour the README documents, and the README must contain
 * {@code documented} word for word.
 */
record Scenario(String name, Topology topology, Body body, String documented) {
  /** What the scenario does with the side's recording client. */
  @FunctionalInterface
  interface Body {
    void run(Recorder c) throws Exception;
  }

  static Scenario single(String name, Body body) {
    return new Scenario(name, Topology.SINGLE, body, null);
  }

  static Scenario cluster(String name, Body body) {
    return new Scenario(name, Topology.CLUSTER, body, null);
  }

  static Scenario quota(String name, Body body) {
    return new Scenario(name, Topology.QUOTA, body, null);
  }

  /** A deliberate difference: {@code documented} is the README's sentence, {@code body} checks it. */
  static Scenario deliberate(String name, String documented, Body body) {
    return new Scenario(name, Topology.SINGLE, body, documented);
  }

  /** The key prefix of this scenario: its name, so keys of different scenarios never meet. */
  String prefix() {
    return name.replaceAll("[^A-Za-z0-9]+", "-") + "/";
  }
}
