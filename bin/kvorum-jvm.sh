# Sourced by bin/kvorum and bin/kvorum-aot: which JVM runs a member, with which options.
# shellcheck shell=bash

# Default JVM options (docs/performance.md, findings 1 and 5): G1, a 256 MB initial heap that
# gives memory back once at most 20 % of it is free after a collection, and the JIT compiler
# threads 10 nice steps below the server's. KVORUM_JAVA_OPTS replaces them.
kvorum_default_opts="-XX:+UseG1GC -Xms256m -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5 -XX:-UseDynamicNumberOfCompilerThreads -Dkvorum.compilerNice=10"

# Two layouts: the source tree after `mvn package` (cli/target) and the unpacked distribution
# archive (dist/: bin/, lib/ with every jar, lib/native, conf/). $here is the directory above bin/.
if [ -f "$here/lib/kvorum-cli.jar" ]; then
  kvorum_jar="$here/lib/kvorum-cli.jar"
  kvorum_classpath="$here/lib/*"
  kvorum_native_dir="$here/lib/native"
  kvorum_aot_dir="$here/lib/aot"
  kvorum_build_hint="the archive is incomplete: unpack kvorum-<version>.tar.gz again"
else
  kvorum_jar="$here/cli/target/kvorum-cli.jar"
  kvorum_classpath="$kvorum_jar:$here/cli/target/lib/*"
  kvorum_native_dir="$here/cli/target/native"
  # The ahead-of-time cache (finding 3) and the JDK that built it; bin/kvorum-aot writes both.
  kvorum_aot_dir="$here/cli/target/aot"
  kvorum_build_hint="build with: ./mvnw -B -DskipTests package"
fi

# RocksDB's native library as the build unpacked it (cli/pom.xml): loaded from there, RocksDB does
# not copy it into the temp dir at every start (where its copies were never removed).
kvorum_native_opts=()
if [ -d "$kvorum_native_dir" ]; then
  kvorum_native_opts=("-Djava.library.path=$kvorum_native_dir")
fi

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
