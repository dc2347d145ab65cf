#!/usr/bin/env bash
# Per-thread server CPU of a fresh Kvorum member (or three) during one kvbench run, read from
# /proc (user and system seconds, threads grouped by name with digits folded), after a warm-up
# (WARMUP, default 5s).
#
#   bench/scripts/thread-cpu.sh single  "put --clients 64 --conns 8 --total 20000 --key-size 8 --val-size 256"
#   bench/scripts/thread-cpu.sh cluster "put --clients 1 --conns 1 --total 1000 --seq --target leader"
#
# Needs bin/kvorum built (mvn -B -DskipTests package) and kvbench (../shared/bench/build.sh;
# KVBENCH overrides its path). Loopback ports 24101-24103 and 24181-24183; data under a temp dir.
set -euo pipefail
topo=${1:?single|cluster}
args=${2:?kvbench workload and flags}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}
dir=$(mktemp -d /tmp/kvorum-thread-cpu.XXXXXX)
n=1
[ "$topo" = cluster ] && n=3
cluster=""
for i in $(seq 1 $n); do cluster="$cluster${cluster:+,}m$i=http://127.0.0.1:2418$i"; done
pids=()
for i in $(seq 1 $n); do
  setsid "$here/bin/kvorum" --name m$i --data-dir "$dir/m$i" \
    --listen-client-urls http://127.0.0.1:2410$i --advertise-client-urls http://127.0.0.1:2410$i \
    --listen-peer-urls http://127.0.0.1:2418$i --initial-advertise-peer-urls http://127.0.0.1:2418$i \
    --initial-cluster "$cluster" --initial-cluster-state new > "$dir/log$i" 2>&1 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do
  up=$( (grep -l 'enabled capabilities' "$dir"/log* 2>/dev/null || true) | wc -l)
  [ "$up" -ge "$n" ] && break
  sleep 0.25
done
eps=""
for i in $(seq 1 $n); do eps="$eps${eps:+,}127.0.0.1:2410$i"; done
snap() {
  for p in "${pids[@]}"; do
    for t in /proc/$p/task/*; do
      # Thread names may hold spaces ("C2 CompilerThread0", "VM Thread"): one field each.
      echo "$(tr ' ' '_' < "$t/comm") $(sed -E 's/^.*\) //' "$t/stat" | cut -d' ' -f12,13)"
    done
  done | awk '{gsub(/[0-9]+/,"N",$1); gsub(/-[0-9a-f]+$/,"",$1); u[$1]+=$2; s[$1]+=$3}
              END {for (k in u) print k, u[k], s[k]}' | sort
}
# shellcheck disable=SC2086
"$kvbench" $args --endpoints "$eps" --warmup "${WARMUP:-5s}" --total 1 > /dev/null 2>&1 || true
snap > "$dir/before"
# shellcheck disable=SC2086
"$kvbench" $args --endpoints "$eps" --warmup 0s 2>&1 | grep -E '^ *metrics' | tr ' ' '\n' \
  | grep -E '^(ops_per_s|p50_ms|p99_ms|events_per_s)=' || true
snap > "$dir/after"
join "$dir/before" "$dir/after" | awk '{du=$4-$2; ds=$5-$3; if (du+ds>0)
  printf "%-20s user %6.2fs sys %6.2fs\n", $1, du/100, ds/100}' | sort -k3 -nr
