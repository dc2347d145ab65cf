#!/usr/bin/env bash
# Adding a learner to a loaded three-member cluster, real etcd 3.4 and Kvorum side by side: each
# server gets the same load (kvbench put: --mb MiB of --val-kb KiB values), then a learner is added
# (etcdctl member add --learner) and started with --initial-cluster-state existing while kvbench
# puts to the leader at a fixed rate. Prints, per server: seconds from member add until the learner
# has applied the leader's index of that moment, and the leader's put latency (kvbench at 100/s)
# in the 10 s before and the 20 s from 1 s before the member add.
#
#   bench/scripts/learner-catchup.sh [--mb 1024] [--val-kb 16] [--only etcd|kvorum]
#
# Needs bin/kvorum built, etcd/etcdctl 3.4 on PATH and kvbench (../shared/bench/build.sh; KVBENCH
# overrides its path). Loopback ports 24201-24204 (clients) and 24281-24284 (peers).
set -euo pipefail
mb=1024
valkb=16
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb=$2; shift 2 ;;
    --val-kb) valkb=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kvbench=${KVBENCH:-$HOME/.cache/kvbench/kvbench}
export ETCDCTL_API=3
total=$(( mb * 1024 / valkb ))
probe_rate=100

run() {
  local name=$1 bin=$2
  local dir
  dir=$(mktemp -d /tmp/learner-catchup.XXXXXX)
  local cluster="m1=http://127.0.0.1:24281,m2=http://127.0.0.1:24282,m3=http://127.0.0.1:24283"
  local pids=()
  start_member() { # i state cluster
    setsid "$bin" --name "m$1" --data-dir "$dir/m$1" --snapshot-count 10000 \
      --listen-client-urls "http://127.0.0.1:2420$1" --advertise-client-urls "http://127.0.0.1:2420$1" \
      --listen-peer-urls "http://127.0.0.1:2428$1" --initial-advertise-peer-urls "http://127.0.0.1:2428$1" \
      --initial-cluster "$3" --initial-cluster-state "$2" --initial-cluster-token lc > "$dir/log$1" 2>&1 &
    pids+=($!)
  }
  for i in 1 2 3; do start_member $i new "$cluster"; done
  trap 'kill -KILL "${pids[@]}" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' RETURN
  local eps="127.0.0.1:24201,127.0.0.1:24202,127.0.0.1:24203"
  for _ in $(seq 1 120); do
    etcdctl --endpoints="$eps" endpoint health > /dev/null 2>&1 && break
    sleep 0.5
  done
  local t0=$SECONDS
  "$kvbench" put --endpoints "$eps" --target leader --clients 64 --conns 8 --total "$total" \
    --key-space "$total" --seq --key-size 16 --val-size $(( valkb * 1024 )) --quiet --id load > /dev/null
  echo "$name: loaded $total puts of $valkb KiB in $(( SECONDS - t0 )) s"
  local leader
  leader=$(etcdctl --endpoints="$eps" endpoint status -w json | python3 -c '
import json,sys
for s in json.load(sys.stdin):
    if s["Status"]["leader"] == s["Status"]["header"]["member_id"]:
        print(s["Endpoint"])')
  "$kvbench" put --endpoints "$leader" --rate $probe_rate --duration 10s --key-space 100 --val-size 16 \
    --id "$name-before" --json-out "$dir/before.json" --quiet > /dev/null
  "$kvbench" put --endpoints "$leader" --rate $probe_rate --duration 20s --key-space 100 --val-size 16 \
    --id "$name-during" --json-out "$dir/during.json" --quiet > /dev/null &
  local probe=$!
  sleep 1
  local added
  added=$(date +%s.%N)
  etcdctl --endpoints="$leader" member add m4 --learner --peer-urls=http://127.0.0.1:24284 > /dev/null
  local target
  target=$(etcdctl --endpoints="$leader" endpoint status -w json | python3 -c '
import json,sys; print(json.load(sys.stdin)[0]["Status"]["raftIndex"])')
  start_member 4 existing "$cluster,m4=http://127.0.0.1:24284"
  local done_at=""
  for _ in $(seq 1 1200); do
    local applied
    applied=$( (etcdctl --endpoints=127.0.0.1:24204 endpoint status -w json 2>/dev/null || true) | python3 -c '
import json,sys
try: print(json.load(sys.stdin)[0]["Status"]["raftAppliedIndex"])
except Exception: print(0)')
    if [ "${applied:-0}" -ge "$target" ]; then
      done_at=$(date +%s.%N)
      break
    fi
    sleep 0.1
  done
  wait $probe
  if [ -n "$done_at" ]; then
    echo "$name: learner applied index $target $(python3 -c "print(round($done_at - $added, 2))") s after member add"
  else
    echo "$name: learner did NOT catch up within 120 s"
  fi
  for f in before during; do
    python3 - "$dir/$f.json" "$name" "$f" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
try:
    r = json.loads(text)
except ValueError:
    r = [json.loads(l) for l in text.splitlines() if l.strip()][-1]
lat = r.get("latency_ms") or r.get("latency") or {}
def g(*ks):
    for k in ks:
        if k in r: return r[k]
        if k in lat: return lat[k]
    return None
print(f"{sys.argv[2]}: leader puts {sys.argv[3]}: ops {g('ops','count')}, errors {g('errors')}, "
      f"p50 {g('p50_ms','p50')} ms, p99 {g('p99_ms','p99')} ms, max {g('max_ms','max')} ms")
EOF
  done
}

[ -z "$only" ] || [ "$only" = etcd ] && run etcd "$(command -v etcd)"
[ -z "$only" ] || [ "$only" = kvorum ] && run kvorum "$here/bin/kvorum"
