#!/usr/bin/python3
"""Compares the wire-relevant parts of two FileDescriptorSets (etcd's and ours).

Checks, per package of interest: the set of messages, enums and services; per message
every field's name, number, label, type, type_name, json_name, oneof membership,
proto3_optional and packed option; oneof names; every enum value name+number; every
service method's name, input/output types and streaming flags. Prints each difference
and exits 1 if there is any.
"""
import sys
from google.protobuf import descriptor_pb2 as d

PACKAGES = {"etcdserverpb", "mvccpb", "authpb", "v3electionpb", "v3lockpb"}
F = d.FieldDescriptorProto

def load(path):
    fds = d.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    return [fd for fd in fds.file if fd.package in PACKAGES]

def walk(files):
    """Flattens into {kind:fullname -> comparable tuple/dict}."""
    out = {}
    def enum(prefix, e):
        out["enum " + prefix + e.name] = sorted((v.name, v.number) for v in e.value)
    def msg(prefix, m):
        full = prefix + m.name
        fields = {}
        for f in m.field:
            oneof = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
            fields[f.number] = dict(
                name=f.name, number=f.number,
                label=F.Label.Name(f.label), type=F.Type.Name(f.type),
                type_name=f.type_name, json_name=f.json_name, oneof=oneof,
                proto3_optional=f.proto3_optional,
                packed=(f.options.packed if f.options.HasField("packed") else None))
        out["message " + full] = dict(
            fields=fields,
            oneofs=sorted(o.name for o in m.oneof_decl),
            map_entry=m.options.map_entry,
            reserved=sorted((r.start, r.end) for r in m.reserved_range))
        for n in m.nested_type:
            msg(full + ".", n)
        for e in m.enum_type:
            enum(full + ".", e)
    for fd in files:
        p = "." + fd.package + "."
        for m in fd.message_type:
            msg(p, m)
        for e in fd.enum_type:
            enum(p, e)
        for s in fd.service:
            out["service " + p + s.name] = {
                meth.name: dict(input=meth.input_type, output=meth.output_type,
                                client_streaming=meth.client_streaming,
                                server_streaming=meth.server_streaming)
                for meth in s.method}
    return out

def main(theirs_path, ours_path):
    theirs, ours = walk(load(theirs_path)), walk(load(ours_path))
    diffs = []
    for k in sorted(set(theirs) - set(ours)):
        diffs.append(f"missing in ours: {k}")
    for k in sorted(set(ours) - set(theirs)):
        diffs.append(f"extra in ours: {k}")
    for k in sorted(set(theirs) & set(ours)):
        a, b = theirs[k], ours[k]
        if k.startswith("message "):
            for num in sorted(set(a["fields"]) | set(b["fields"])):
                fa, fb = a["fields"].get(num), b["fields"].get(num)
                if fa != fb:
                    diffs.append(f"{k} field #{num}: etcd={fa} ours={fb}")
            for attr in ("oneofs", "map_entry", "reserved"):
                if a[attr] != b[attr]:
                    diffs.append(f"{k} {attr}: etcd={a[attr]} ours={b[attr]}")
        elif k.startswith("service "):
            for m in sorted(set(a) | set(b)):
                if a.get(m) != b.get(m):
                    diffs.append(f"{k} method {m}: etcd={a.get(m)} ours={b.get(m)}")
        elif a != b:
            diffs.append(f"{k}: etcd={a} ours={b}")
    kinds = {}
    for k in theirs:
        kinds[k.split()[0]] = kinds.get(k.split()[0], 0) + 1
    nfields = sum(len(v["fields"]) for k, v in theirs.items() if k.startswith("message "))
    nmethods = sum(len(v) for k, v in theirs.items() if k.startswith("service "))
    nvalues = sum(len(v) for k, v in theirs.items() if k.startswith("enum "))
    print(f"compared: {kinds.get('message',0)} messages ({nfields} fields), "
          f"{kinds.get('enum',0)} enums ({nvalues} values), "
          f"{kinds.get('service',0)} services ({nmethods} methods)")
    for x in diffs:
        print("DIFF", x)
    print(f"{len(diffs)} differences")
    return 1 if diffs else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
