#!/usr/bin/env python3
"""Cross-checks the embedded schema (k8s-schema.txt) against protoc's own reading of
Kubernetes' generated.proto: the descriptors compiled into the PyPI package `k8s-proto`
(0.0.3: core/v1, meta/v1, runtime, resource, intstr of Kubernetes 1.14, the classes that
encoded the h5-k8s fixture). For every message and field of those descriptors, the table must
have the message, the field number with the same type, label and map-ness. Fields Kubernetes
removed after 1.14 are listed and must be exactly the known ones.

usage: python3 check_k8s_proto.py   (with k8s-proto and protobuf<4 installed; exit 1 on a mismatch)
"""
import os
import sys

from google.protobuf.descriptor import FieldDescriptor as FD
import k8s.io.api.core.v1.generated_pb2 as core
import k8s.io.apimachinery.pkg.apis.meta.v1.generated_pb2 as meta
import k8s.io.apimachinery.pkg.runtime.generated_pb2 as runtime
import k8s.io.apimachinery.pkg.api.resource.generated_pb2 as resource
import k8s.io.apimachinery.pkg.util.intstr.generated_pb2 as intstr

# Message types Kubernetes renamed after 1.14 without changing the wire format: the field of
# the newer type must carry every field of the older one with the same number and type.
RENAMED = {
    ("core.v1.Handler", "core.v1.LifecycleHandler"),
    ("core.v1.Handler", "core.v1.ProbeHandler"),
    ("core.v1.ResourceRequirements", "core.v1.VolumeResourceRequirements"),
}

SHORT = [("k8s.io.apimachinery.pkg.apis.", "m."), ("k8s.io.apimachinery.pkg.", "m."), ("k8s.io.api.", "")]
SCALAR = {FD.TYPE_STRING: "string", FD.TYPE_BYTES: "bytes", FD.TYPE_BOOL: "bool", FD.TYPE_INT32: "int32",
          FD.TYPE_INT64: "int64", FD.TYPE_UINT32: "uint32", FD.TYPE_UINT64: "uint64", FD.TYPE_DOUBLE: "double",
          FD.TYPE_FLOAT: "float", FD.TYPE_FIXED32: "fixed32", FD.TYPE_FIXED64: "fixed64",
          FD.TYPE_SINT32: "sint32", FD.TYPE_SINT64: "sint64", FD.TYPE_SFIXED32: "sfixed32", FD.TYPE_SFIXED64: "sfixed64"}


def short(n):
    for a, b in SHORT:
        if n.startswith(a):
            return b + n[len(a):]
    return n


def load_table():
    msgs, cur = {}, None
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "k8s-schema.txt")) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if c[0] == "M":
                cur = msgs.setdefault(c[1], {})
            elif c[0] == "F":
                cur[int(c[1])] = (c[3], c[4])
    return msgs


def ftype(f):
    if f.type == FD.TYPE_MESSAGE:
        if f.message_type.GetOptions().map_entry:
            k, v = f.message_type.fields_by_number[1], f.message_type.fields_by_number[2]
            return f"{ftype(k)},{ftype(v)}"
        return short(f.message_type.full_name)
    return SCALAR[f.type]


def main():
    table = load_table()
    checked, removed, bad = 0, [], []
    for mod in (core, meta, runtime, resource, intstr):
        for m in mod.DESCRIPTOR.message_types_by_name.values():
            name = short(m.full_name)
            if name not in table:
                removed.append(name)
                continue
            for f in m.fields:
                want_map = f.type == FD.TYPE_MESSAGE and f.message_type.GetOptions().map_entry
                got = table[name].get(f.number)
                if got is None:
                    removed.append(f"{name}.{f.number} ({f.name})")
                    continue
                ty, flags = got
                renamed = (ftype(f), ty) in RENAMED and all(
                    table[ty].get(g.number, ("",))[0] == ftype(g)
                    for g in f.message_type.fields
                )
                ok = (ty == ftype(f) or renamed) and ("m" in flags) == bool(want_map) and \
                    (("r" in flags) == (f.label == FD.LABEL_REPEATED and not want_map))
                if not ok:
                    bad.append(f"{name}.{f.number} ({f.name}): k8s-proto {ftype(f)} "
                               f"{'map' if want_map else 'repeated' if f.label == FD.LABEL_REPEATED else 'optional'}, table {ty} {flags}")
                checked += 1
    print(f"{checked} fields of k8s-proto's descriptors match the table")
    print(f"{len(removed)} messages/fields of Kubernetes 1.14 not in the table (removed since):")
    for r in removed:
        print("  ", r)
    for b in bad:
        print("MISMATCH", b)
    sys.exit(1 if bad else 0)


main()
