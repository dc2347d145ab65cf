# Sourced by bin/kvorum and bin/kvorum-aot: which JVM runs a member, with which options.
# shellcheck shell=bash

# Default JVM options (docs/performance.md, findings 1 and 5): G1, a 256 MB initial heap that
# gives memory back once at most 20 % of it is free after a collection, and the JIT compiler
# threads 10 nice steps below the server's. KVORUM_JAVA_OPTS replaces them.
kvorum_default_opts="-XX:+UseG1GC -Xms256m -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5 -XX:-UseDynamicNumberOfCompilerThreads -Dkvorum.compilerNice=10"

# RocksDB's native library as the build unpacked it (cli/pom.xml): loaded from there, RocksDB does
# not copy it into the temp dir at every start (where its copies were never removed).
kvorum_native_opts=()
if [ -d "$here/cli/target/native" ]; then
  kvorum_native_opts=("-Djava.library.path=$here/cli/target/native")
fi

# The ahead-of-time cache (finding 3) and the JDK that built it; bin/kvorum-aot writes both.
kvorum_aot_dir="$here/cli/target/aot"

# Prints the feature version of the java at $1 (17, 25, ...), or nothing if it does not run.
kvorum_java_feature() {
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -nE 's/^ *java\.specification\.version = ([0-9]+).*/\1/p' | head -n 1
}

# Prints the newest java of feature version 25 or later among KVORUM_JAVA, JAVA_HOME, PATH and
# /usr/lib/jvm, or nothing.
kvorum_find_aot_java() {
  local best="" best_v=0 j v
  for j in ${KVORUM_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} "$(command -v java 2>/dev/null)" /usr/lib/jvm/*/bin/java; do
    [ -n "$j" ] && [ -x "$j" ] || continue
    v=$(kvorum_java_feature "$j")
    if [ -n "$v" ] && [ "$v" -ge 25 ] && [ "$v" -gt "$best_v" ]; then
      best=$(readlink -f "$j")
      best_v=$v
    fi
  done
  [ -n "$best" ] && echo "$best"
}
