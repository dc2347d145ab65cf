#!/usr/bin/env bash
# One member at scale, real etcd 3.4 and Kvorum side by side: 100,000 keys of 1 KiB (about 100 MB),
# then one sequential writer for 10 s (after 10 s of warm-up); then --keys puts over --keys keys and
# the same writer again. Prints throughput, p50 and p99 of both phases, the data dir's size and the
# member's anonymous resident memory (no forced GC). Both get --quota-backend-bytes 16 GiB.
#
#   bench/scripts/scale.sh [--keys 5000000] [--only etcd|kvorum]
#
# Needs bin/kvorum built, etcd 3.4 on PATH and kvbench (../shared/bench/build.sh; KVBENCH
# overrides its path). Loopback ports 24301 (clients) and 24381 (peers). etcd's data dir at 5M keys
# is about 7 GB.
set -euo pipefail
keys=5000000
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}
small=100000
ep=127.0.0.1:24301

run() {
  local name=$1 bin=$2 dir pid
  dir=$(mktemp -d /tmp/kvorum-scale.XXXXXX)
  setsid "$bin" --name m1 --data-dir "$dir/m1" --quota-backend-bytes 17179869184 \
    --listen-client-urls "http://$ep" --advertise-client-urls "http://$ep" \
    --listen-peer-urls http://127.0.0.1:24381 --initial-advertise-peer-urls http://127.0.0.1:24381 \
    --initial-cluster m1=http://127.0.0.1:24381 --initial-cluster-state new > "$dir/log" 2>&1 &
  pid=$!
  trap 'kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' RETURN
  "$kvbench" wait --endpoints "$ep" --timeout 60s > /dev/null
  load() { # from count
    "$kvbench" put --endpoints "$ep" --clients 64 --conns 8 --total "$2" --key-space "$2" --seq \
      --key-size 16 --val-size 1024 --warmup 0s --quiet --id "load-$1" > /dev/null
  }
  probe() { # id key-space
    "$kvbench" put --endpoints "$ep" --clients 1 --duration 10s --warmup 10s --key-space "$2" \
      --key-size 16 --val-size 1024 --json-out "$dir/$1.json" --quiet --id "$1" > /dev/null
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); l=r['latency']
print(f\"$name: {sys.argv[2]} keys: {r['ops_per_s']:.0f} puts/s, p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms\")" \
      "$dir/$1.json" "$2"
  }
  load small "$small"
  probe small "$small"
  load big "$keys"
  probe big "$keys"
  echo "$name: data dir $(du -sm "$dir/m1" | cut -f1) MB, $(grep RssAnon "/proc/$pid/status" | tr -s ' \t' ' ')"
}

[ "$only" = kvorum ] || run etcd "$(command -v etcd)"
[ "$only" = etcd ] || run kvorum "$here/bin/kvorum"
