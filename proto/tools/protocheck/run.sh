#!/bin/bash
# Diffs the descriptors of etcd 3.4's client protos (from Debian's golang-etcd-server-dev) against
# Kvorum's: every field name/number/type, enum value and method must match.
# Needs: apt-get install -y golang-etcd-server-dev protobuf-compiler python3-protobuf
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ours=${1:-$here/../../src/main/proto}
gocode=/usr/share/gocode/src
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" && ln -s "$gocode/go.etcd.io/etcd" "$work/root/etcd"
protoc -I "$work/root" -I "$gocode/github.com/gogo/protobuf" \
  -I "$gocode/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis" -I /usr/include \
  --include_imports --descriptor_set_out="$work/etcd.pb" \
  etcd/mvcc/mvccpb/kv.proto etcd/auth/authpb/auth.proto etcd/etcdserver/etcdserverpb/rpc.proto \
  etcd/etcdserver/api/v3election/v3electionpb/v3election.proto \
  etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto
protoc -I "$ours" --include_imports --descriptor_set_out="$work/ours.pb" \
  $(cd "$ours" && find . -name '*.proto' | sed 's|^\./||' | sort)
/usr/bin/python3 "$here/compare.py" "$work/etcd.pb" "$work/ours.pb"
