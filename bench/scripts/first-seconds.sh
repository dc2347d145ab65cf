#!/usr/bin/env bash
# One sequential writer against three fresh members, window by window: what compare.sh's
# put-seq-1c sees 10-15 s after start, and how it settles. Starts three members (Kvorum through
# bin/kvorum, or etcd 3.4), runs `kvbench put --clients 1 --seq --target leader` with a 10 s warm-up
# and then --windows consecutive 5 s windows, and prints each window's throughput, latency and the
# members' CPU. Members and kvbench run at nice -10 (as compare.sh --nice -10) when root.
#
#   bench/scripts/first-seconds.sh [--side kvorum|etcd] [--windows 3] [--reps 1]
#
# KVORUM (the launcher, default bin/kvorum) picks the build, so two builds can alternate;
# KVORUM_JAVA_OPTS as for bin/kvorum. Needs kvbench (../shared/bench/build.sh; KVBENCH overrides
# its path). Loopback ports 24401-24403 (clients) and 24481-24483 (peers).
set -euo pipefail
side=kvorum
windows=3
reps=1
while [ $# -gt 0 ]; do
  case "$1" in
    --side) side=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}
case "$side" in
  kvorum) bin=${KVORUM:-$here/bin/kvorum} ;;
  etcd) bin=etcd ;;
  *) echo "--side must be kvorum or etcd" >&2; exit 2 ;;
esac
nice=()
[ "$(id -u)" = 0 ] && nice=(nice -n -10)

run() {
  local dir cluster="" pids=() eps="" pgids w
  dir=$(mktemp -d /tmp/kvorum-first-seconds.XXXXXX)
  for i in 1 2 3; do cluster="$cluster${cluster:+,}m$i=http://127.0.0.1:2448$i"; done
  for i in 1 2 3; do
    setsid "${nice[@]}" "$bin" --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "http://127.0.0.1:2440$i" --advertise-client-urls "http://127.0.0.1:2440$i" \
      --listen-peer-urls "http://127.0.0.1:2448$i" --initial-advertise-peer-urls "http://127.0.0.1:2448$i" \
      --initial-cluster "$cluster" --initial-cluster-state new > "$dir/log$i" 2>&1 &
    pids+=($!)
    eps="$eps${eps:+,}127.0.0.1:2440$i"
  done
  # shellcheck disable=SC2064
  trap "kill -TERM ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf '$dir'" RETURN
  pgids=$(IFS=,; echo "${pids[*]}")
  "$kvbench" wait --endpoints "$eps" > /dev/null 2>&1 || true
  for w in $(seq 1 "$windows"); do
    local warm=0s
    [ "$w" = 1 ] && warm=10s
    # shellcheck disable=SC2086
    "${nice[@]}" "$kvbench" put --clients 1 --conns 1 --duration 5s --key-size 8 --val-size 256 --seq \
      --target leader --endpoints "$eps" --warmup "$warm" --server-pgids "$pgids" 2>&1 \
      | grep -E '^ *metrics' | tr ' ' '\n' \
      | grep -E '^(ops_per_s|p50_ms|p99_ms|max_ms|server_cpu_s)=' | tr '\n' ' ' || true
    echo "(window $w)"
  done
}

for r in $(seq 1 "$reps"); do
  echo "== $side, repetition $r"
  run
done
