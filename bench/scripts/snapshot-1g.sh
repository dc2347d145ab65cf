#!/usr/bin/env bash
# 1 GB snapshot export/import, Kvorum next to etcd 3.4.23, on loopback. Prints timings.
set -eu
KV="$(cd "$(dirname "$0")/../.." && pwd)/bin/kvorum"
B=/tmp/big; rm -rf $B; mkdir -p $B; cd $B
export ETCDCTL_API=3
KVB=~/.cache/kvbench/kvbench
N=${N:-1000000}
t() { local s=$(date +%s.%N); "$@" > /dev/null 2>&1; local e=$(date +%s.%N); echo "TIME $(echo "$e - $s" | bc) s: $*" >&2; }
flags() { echo --name $1 --data-dir $2 --listen-client-urls http://127.0.0.1:$3 --advertise-client-urls http://127.0.0.1:$3 --listen-peer-urls http://127.0.0.1:$4 --initial-advertise-peer-urls http://127.0.0.1:$4 --initial-cluster $1=http://127.0.0.1:$4 --quota-backend-bytes 8000000000; }
wait_up() { curl -fsS --retry 60 --retry-delay 1 --retry-connrefused http://127.0.0.1:$1/health >/dev/null; }

etcd $(flags e e.etcd 27379 27380) > e.log 2>&1 & epid=$!
wait_up 27379
$KVB put --endpoints 127.0.0.1:27379 --clients 64 --conns 8 --total $N --key-size 16 --val-size 1000 --quiet
etcdctl --endpoints 127.0.0.1:27379 endpoint status -w table
t etcdctl --endpoints 127.0.0.1:27379 snapshot save e.snap
ls -l e.snap e.etcd/member/snap/db
kill $epid; wait $epid || true
t etcdctl snapshot restore e.snap --data-dir er.etcd --name er --initial-cluster er=http://127.0.0.1:27480 --initial-advertise-peer-urls http://127.0.0.1:27480
etcd $(flags er er.etcd 27479 27480) > er.log 2>&1 & erpid=$!
s=$(date +%s.%N); wait_up 27479; e=$(date +%s.%N); echo "TIME $(echo "$e - $s" | bc) s: etcd start on restored dir to /health" >&2
kill $erpid; wait $erpid || true
# Kvorum imports etcd's file
t $KV migrate --snapshot e.snap --name ki --initial-cluster ki=http://127.0.0.1:27580 --output ki.etcd
du -sh ki.etcd

$KV $(flags k k.etcd 28379 28380) > k.log 2>&1 & kpid=$!
wait_up 28379
$KVB put --endpoints 127.0.0.1:28379 --clients 64 --conns 8 --total $N --key-size 16 --val-size 1000 --quiet
etcdctl --endpoints 127.0.0.1:28379 endpoint status -w table
t etcdctl --endpoints 127.0.0.1:28379 snapshot save k.snap
ls -l k.snap; du -sh k.etcd
grep 'wrote database snapshot' k.log | tail -1
kill $kpid; wait $kpid || true
t etcdctl snapshot restore k.snap --data-dir kr.etcd --name kr --initial-cluster kr=http://127.0.0.1:28480 --initial-advertise-peer-urls http://127.0.0.1:28480
# Kvorum starts on the restored etcd dir (migrates in place)
s=$(date +%s.%N)
$KV $(flags kr kr.etcd 28479 28480) > kr.log 2>&1 & krpid=$!
wait_up 28479; e=$(date +%s.%N); echo "TIME $(echo "$e - $s" | bc) s: kvorum start on restored dir (in-place migration) to /health" >&2
grep -h 'migrat' kr.log | tail -2
etcdctl --endpoints 127.0.0.1:28479 endpoint hashkv
kill $krpid; wait $krpid || true
# real etcd on Kvorum's file
t etcdctl snapshot restore k.snap --data-dir ke.etcd --name ke --initial-cluster ke=http://127.0.0.1:29580 --initial-advertise-peer-urls http://127.0.0.1:29580
etcd $(flags ke ke.etcd 29579 29580) > ke.log 2>&1 & kepid=$!
wait_up 29579
etcdctl --endpoints 127.0.0.1:29579 endpoint hashkv
kill $kepid; wait $kepid || true
echo done
