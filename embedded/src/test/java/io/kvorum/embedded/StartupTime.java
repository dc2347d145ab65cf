package io.kvorum.embedded;

import java.util.Arrays;

/**
 * Not a test: how long one embedded member takes from {@link KvorumCluster#start()} until it is
 * ready (serving clients, leader elected, its attributes applied), in a warm JVM. Run it with the
 * module's test class path: {@code java -cp ... io.kvorum.embedded.StartupTime [warmups] [runs]}.
 */
final class StartupTime {
  private StartupTime() {}

  public static void main(String[] args) {
    int warmups = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    long[] nanos = new long[runs];
    for (int i = -warmups; i < runs; i++) {
      KvorumCluster k = Kvorum.builder().etcdFlags(java.util.List.of(args.length > 2 ? args[2].split(" ") : new String[0])).build();
      long t0 = System.nanoTime();
      k.start();
      long took = System.nanoTime() - t0;
      k.close();
      if (i >= 0) {
        nanos[i] = took;
      }
      System.out.printf("%s %d: %.1f ms%n", i < 0 ? "warm-up" : "run", i, took / 1e6);
    }
    Arrays.sort(nanos);
    System.out.printf("start+ready of one member over %d runs after %d warm-ups: min %.1f ms, median %.1f ms, max %.1f ms%n",
        runs, warmups, nanos[0] / 1e6, nanos[runs / 2] / 1e6, nanos[runs - 1] / 1e6);
  }
}
