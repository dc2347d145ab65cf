#!/bin/bash
# Builds descriptor sets of etcd 3.4's client protos and of Kvorum's, then diffs them.
set -euo pipefail
here=/tmp/protocheck
gocode=/usr/share/gocode/src
ours=${1:-/work/main/proto/src/main/proto}
protoc -I "$here/etcd-root" -I "$gocode/github.com/gogo/protobuf" \
  -I "$gocode/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis" -I /usr/include \
  --include_imports --descriptor_set_out="$here/etcd.pb" \
  etcd/mvcc/mvccpb/kv.proto etcd/auth/authpb/auth.proto etcd/etcdserver/etcdserverpb/rpc.proto \
  etcd/etcdserver/api/v3election/v3electionpb/v3election.proto \
  etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto
protoc -I "$ours" --include_imports --descriptor_set_out="$here/ours.pb" \
  $(cd "$ours" && find . -name '*.proto' | sed 's|^\./||' | sort)
/usr/bin/python3 "$here/compare.py" "$here/etcd.pb" "$here/ours.pb"
