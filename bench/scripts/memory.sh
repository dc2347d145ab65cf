#!/usr/bin/env bash
# Resident memory of one member holding --keys keys of --val-kb KiB, real etcd 3.4 and Kvorum side
# by side: each server is loaded with kvbench put (64 clients), then Kvorum gets a full GC (jcmd
# GC.run) and both are left to settle for 5 s; prints RssAnon (anonymous resident memory: heap,
# native allocations, RocksDB's caches and memtables; not the page cache of data files), VmRSS and,
# for Kvorum, the Java heap in use; then the time a clean restart takes until the member answers
# (kvbench wait). Both get --quota-backend-bytes 8 GiB.
#
#   bench/scripts/memory.sh [--keys 1000000] [--val-kb 1] [--only etcd|kvorum]
#
# Needs bin/kvorum built, etcd 3.4 on PATH and kvbench (../shared/bench/build.sh; KVBENCH
# overrides its path). Loopback ports 24301 (clients) and 24381 (peers).
set -euo pipefail
keys=1000000
valkb=1
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --val-kb) valkb=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}

status_kb() { # pid field
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

run() {
  local name=$1 bin=$2
  local dir pid
  dir=$(mktemp -d /tmp/kvorum-memory.XXXXXX)
  start() {
    setsid "$bin" --name m1 --data-dir "$dir/m1" --quota-backend-bytes 8589934592 \
      --listen-client-urls http://127.0.0.1:24301 --advertise-client-urls http://127.0.0.1:24301 \
      --listen-peer-urls http://127.0.0.1:24381 --initial-advertise-peer-urls http://127.0.0.1:24381 \
      --initial-cluster m1=http://127.0.0.1:24381 --initial-cluster-state new >> "$dir/log" 2>&1 &
    pid=$!
  }
  start
  trap 'kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' RETURN
  "$kvbench" wait --endpoints 127.0.0.1:24301 --timeout 60s > /dev/null
  local idle_anon t0
  idle_anon=$(status_kb "$pid" RssAnon)
  t0=$SECONDS
  "$kvbench" put --endpoints 127.0.0.1:24301 --clients 64 --conns 8 --total "$keys" --key-space "$keys" \
    --seq --key-size 16 --val-size $(( valkb * 1024 )) --warmup 0s --quiet --id load > /dev/null
  local load_s=$(( SECONDS - t0 ))
  local heap=""
  if [ "$name" = kvorum ]; then
    local jcmd
    jcmd="$(dirname "$(readlink -f "/proc/$pid/exe")")/jcmd"
    "$jcmd" "$pid" GC.run > /dev/null
    heap=$("$jcmd" "$pid" GC.heap_info | sed -nE 's/.*(total|committed) ([0-9]+)K, used ([0-9]+)K.*/heap committed \2 KiB, used \3 KiB/p' | head -n 1)
  fi
  sleep 5
  echo "$name: $keys keys of $valkb KiB loaded in ${load_s} s; RssAnon $(status_kb "$pid" RssAnon) KiB" \
    "(idle before load $idle_anon KiB), VmRSS $(status_kb "$pid" VmRSS) KiB${heap:+; $heap}; data dir $(du -sm "$dir/m1" | cut -f1) MB"
  # Restart to ready: a clean stop, then the time from starting the process again until it answers.
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  local t1
  t1=$(date +%s.%N)
  start
  "$kvbench" wait --endpoints 127.0.0.1:24301 --timeout 300s > /dev/null
  echo "$name: restart to ready $(echo "$(date +%s.%N) - $t1" | bc | cut -c1-5) s"
}

[ "$only" = kvorum ] || run etcd "$(command -v etcd)"
[ "$only" = etcd ] || run kvorum "$here/bin/kvorum"
