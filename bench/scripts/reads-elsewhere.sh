#!/usr/bin/env bash
# How much of write-under-read's loaded put latency is the machine and how much the server: one
# Kvorum member and one etcd 3.4 side by side, puts at 200/s (kvbench's write-under-read put
# load) to one of them, alone and then beside four long-range readers (1,000 x 1 KiB) on the same
# server or on the other one. A server whose readers run elsewhere does no read work at all.
# Servers and kvbench run in sessions of their own at nice -10 when root (as compare.sh --nice -10).
#
#   bench/scripts/reads-elsewhere.sh [reps]
#
# Needs bin/kvorum built (mvn -B -DskipTests package), etcd on the PATH and kvbench
# (../shared/bench/build.sh; KVBENCH overrides its path). Loopback ports 24301/24381 and 24401/24481.
set -uo pipefail
reps=${1:-2}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}
dir=$(mktemp -d /tmp/kvorum-reads-elsewhere.XXXXXX)
nice=()
[ "$(id -u)" = 0 ] && nice=(nice -n -10)
pids=()
start() { # name binary client-port
  local peer=$(($3 + 80))
  setsid "${nice[@]}" "$2" --name "$1" --data-dir "$dir/$1" \
    --listen-client-urls "http://127.0.0.1:$3" --advertise-client-urls "http://127.0.0.1:$3" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$1=http://127.0.0.1:$peer" --initial-cluster-state new > "$dir/$1.log" 2>&1 &
  pids+=($!)
  [ ${#nice[@]} = 0 ] || echo -10 > "/proc/$!/autogroup" 2>/dev/null || true
}
start kvorum "$here/bin/kvorum" 24301
start etcd etcd 24401
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
declare -A ep=([kvorum]=127.0.0.1:24301 [etcd]=127.0.0.1:24401)
"$kvbench" wait --endpoints "${ep[kvorum]},${ep[etcd]}" --timeout 60s > /dev/null
run() { setsid -w "${nice[@]}" "$@"; }
puts() { # duration endpoint
  run "$kvbench" put --rate 200 --clients 32 --conns 4 --duration "$1" --key-size 32 --val-size 256 \
    --key-space 10000 --warmup 0s --endpoints "$2" 2>&1 | grep -oE '(p50|p99)_ms=[0-9.]+' | tr '\n' ' '
}
readers() { # duration endpoint
  run "$kvbench" range-large --clients 4 --conns 4 --n 1000 --val-size 1024 --duration "$1" --warmup 0s \
    --endpoints "$2" > /dev/null 2>&1
}
# Warm-up: both paths on both servers (the JVM compiles what it runs).
for s in kvorum etcd; do readers 10s "${ep[$s]}"; puts 10s "${ep[$s]}" > /dev/null; done
for rep in $(seq 1 "$reps"); do
  for p in kvorum etcd; do
    echo "rep $rep puts->$p alone: $(puts 8s "${ep[$p]}")"
    for r in etcd kvorum; do
      readers 12s "${ep[$r]}" &
      rp=$!
      sleep 2
      echo "rep $rep puts->$p readers->$r: $(puts 8s "${ep[$p]}")"
      wait $rp
    done
  done
done
