#!/usr/bin/env bash
# auth-compare.sh - compare.sh's workloads with auth enabled on both sides: real etcd 3.4.23 and
# Kvorum, the same client, the same user (root role) and the same token kind (--auth-token, simple
# unless AUTH_TOKEN is set on both sides' command lines by the caller).
#
#   bench/scripts/auth-compare.sh [compare.sh options...]
#   e.g. bench/scripts/auth-compare.sh --reps 3 --topo both --only '^(put-rand-64c|range-l-64c)$' --out DIR
#
# It builds a private copy of ../shared/bench's kvbench (never modifying ../shared) with two
# changes: clients authenticate as KVBENCH_USER/KVBENCH_PASSWORD, and before each workload the
# server gets that user (root role) and auth enabled (bench/scripts/auth/authsetup.go). Then it
# runs ../shared/bench/compare.sh with that binary; servers start fresh per repetition (--fresh
# rep), so each repetition enables auth anew. Needs the Go toolchain and the etcd 3.4 client
# sources, as ../shared/bench/build.sh does. Run `mvn -DskipTests package` first (bin/kvorum).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
OUT=${KVBENCH_AUTH_OUT:-${HOME:-/tmp}/.cache/kvbench-auth}
GOCODE=${KVBENCH_GOCODE:-/usr/share/gocode}

mkdir -p "$OUT/gopath/src/kvbench"
rm -f "$OUT/gopath/src/kvbench/"*.go
cp "$SHARED"/*.go "$OUT/gopath/src/kvbench/"
cp "$HERE/auth/authsetup.go" "$OUT/gopath/src/kvbench/"
# The one change to kvbench's own code: its clients log in.
python3 - "$OUT/gopath/src/kvbench/main.go" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = "\t\tLogConfig:   quietZap(),\n\t})"
if old not in s:
    sys.exit("auth-compare.sh: kvbench's newClient changed; update the patch")
s = s.replace(old, "\t\tLogConfig:   quietZap(),\n\t\tUsername:    os.Getenv(\"KVBENCH_USER\"),\n\t\tPassword:    os.Getenv(\"KVBENCH_PASSWORD\"),\n\t})", 1)
open(p, "w").write(s)
PY
(cd "$OUT/gopath/src/kvbench" && GO111MODULE=off GOPATH="$OUT/gopath:$GOCODE" GOFLAGS= \
  GOCACHE="${GOCACHE:-$OUT/gocache}" go build -o "$OUT/kvbench" .)

export KVBENCH_BIN="$OUT/kvbench" KVBENCH_USER=root KVBENCH_PASSWORD=kvbench-root-pw
export KVB_B_NAME=kvorum KVB_A_NAME=etcd
export KVB_EXTRA_ARGS="${KVB_EXTRA_ARGS:---warmup 10s}"
export KVORUM="$ROOT/bin/kvorum"
export KVB_B_CMD='exec "$KVORUM" --name "$KVB_NAME" --data-dir "$KVB_DATA_DIR" --listen-client-urls "$KVB_CLIENT_URL" --advertise-client-urls "$KVB_CLIENT_URL" --listen-peer-urls "$KVB_PEER_URL" --initial-advertise-peer-urls "$KVB_PEER_URL" --initial-cluster "$KVB_INITIAL_CLUSTER" --initial-cluster-state new --initial-cluster-token "$KVB_CLUSTER_TOKEN"'
exec "$SHARED/compare.sh" --fresh rep --nice -10 "$@"
