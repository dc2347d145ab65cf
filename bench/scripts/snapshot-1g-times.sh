#!/usr/bin/env bash
# 1 GB snapshot export/import timings (docs/performance.md finding 14). Loopback only; builds nothing.
set -u
KV="$(cd "$(dirname "$0")/../.." && pwd)/bin/kvorum"
cd /tmp/big
export ETCDCTL_API=3
flags() { echo --name $1 --data-dir $2 --listen-client-urls http://127.0.0.1:$3 --advertise-client-urls http://127.0.0.1:$3 --listen-peer-urls http://127.0.0.1:$4 --initial-advertise-peer-urls http://127.0.0.1:$4 --initial-cluster $1=http://127.0.0.1:$4 --quota-backend-bytes 8000000000; }
wait_up() { curl -fsS --retry 90 --retry-delay 1 --retry-connrefused http://127.0.0.1:$1/health >/dev/null 2>&1; }
now() { date +%s.%N; }
for rep in 1 2; do
etcd $(flags er er.etcd 27479 27480) > er2.log 2>&1 & p=$!
wait_up 27479
rm -f e2.snap; s=$(now); etcdctl --endpoints 127.0.0.1:27479 snapshot save e2.snap >/dev/null 2>&1; e=$(now); echo "etcd snapshot save: $(echo "$e - $s" | bc) s, $(stat -c %s e2.snap) bytes"
kill $p; wait $p
rm -rf er3.etcd; s=$(now); etcdctl snapshot restore e2.snap --data-dir er3.etcd --name er3 --initial-cluster er3=http://127.0.0.1:27680 --initial-advertise-peer-urls http://127.0.0.1:27680 >/dev/null 2>&1; e=$(now); echo "etcdctl snapshot restore (etcd's file): $(echo "$e - $s" | bc) s"
$KV $(flags ki ki.etcd 27579 27580) > ki.log 2>&1 & p=$!
wait_up 27579
rm -f k2.snap; s=$(now); etcdctl --endpoints 127.0.0.1:27579 snapshot save k2.snap >/dev/null 2>&1; e=$(now); echo "kvorum snapshot save: $(echo "$e - $s" | bc) s, $(stat -c %s k2.snap) bytes"
grep 'wrote database snapshot' ki.log | tail -1 | grep -o 'took [0-9]* ms'
kill $p; wait $p
rm -rf kr3.etcd; s=$(now); etcdctl snapshot restore k2.snap --data-dir kr3.etcd --name kr3 --initial-cluster kr3=http://127.0.0.1:27780 --initial-advertise-peer-urls http://127.0.0.1:27780 >/dev/null 2>&1; e=$(now); echo "etcdctl snapshot restore (Kvorum's file): $(echo "$e - $s" | bc) s"
rm -rf km3; s=$(now); $KV migrate --snapshot e2.snap --name km --initial-cluster km=http://127.0.0.1:27880 --output km3 >/dev/null; e=$(now); echo "kvorum migrate --snapshot (etcd's file): $(echo "$e - $s" | bc) s, $(du -sb km3 | cut -f1) bytes"
done
