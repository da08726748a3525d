#!/usr/bin/env python3
"""Generates crates/k8s/schema/k8s-schema.txt: the schema etcdsnap decodes Kubernetes objects with.

Sources (read from git, never copied into this repository), Apache-2.0, The Kubernetes Authors:
  kubernetes/api, kubernetes/apimachinery, kubernetes/apiextensions-apiserver,
  kubernetes/kube-aggregator at the release tags below.

From each package's generated.proto: messages, field numbers, protobuf types, repeated and map
fields. From the package's Go files (types.go and friends): each field's `json:"..."` tag (JSON
name, omitempty, inline, "-"), whether the Go field is a pointer, and which Go types are not
structs (`type ExtraValue []string` is a message on the wire and an array in JSON). Which structs
are kinds: those embedding metav1.TypeMeta; their apiVersion comes from the package's
`+groupName` (or its directory) and version.

The newest release gives every package it has; older releases then add the messages and kinds
the newest no longer has (autoscaling/v2beta1, PodSecurityPolicy, extensions/v1beta1 Deployment,
...), so objects old clusters still store decode too.

Usage (one command; the git dirs are clones of the four repositories):
  python3 crates/k8s/schema/gen.py --api DIR --apimachinery DIR \
      --apiextensions DIR --aggregator DIR > crates/k8s/schema/k8s-schema.txt
Standard library only; no protoc, no network.
"""

import argparse
import re
import subprocess
import sys

# The newest release first, then older ones that still had types the newest removed.
RELEASES = ["v0.36.3", "v0.32.9", "v0.29.15", "v0.26.15", "v0.24.17", "v0.21.14", "v0.18.19", "v0.16.15"]
# kube-aggregator's newest tag (it lags one patch release behind).
AGGREGATOR_NEWEST = "v0.36.2"

# Messages whose Go type marshals itself (MarshalJSON); the renderer knows each by this name.
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "rawjson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawjson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON": "rawjson",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSON": "rawjson",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": "orbool",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrBool": "orbool",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": "orarray",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrArray": "orarray",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": "orstringarray",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrStringArray": "orstringarray",
}

SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"}

# Table names are the proto names without these prefixes (longest first).
SHORT = [
    ("k8s.io.apiextensions_apiserver.pkg.apis.", "x."),
    ("k8s.io.kube_aggregator.pkg.apis.", "a."),
    ("k8s.io.apimachinery.pkg.apis.", "m."),
    ("k8s.io.apimachinery.pkg.", "m."),
    ("k8s.io.api.", ""),
]


def short(name):
    for long, s in SHORT:
        if name.startswith(long):
            return s + name[len(long):]
    return name


class Git:
    def __init__(self, git_dir):
        self.dir = git_dir

    def files(self, tag):
        out = subprocess.run(["git", "-C", self.dir, "ls-tree", "-r", "--name-only", tag],
                             check=True, capture_output=True, text=True).stdout
        return out.split("\n")

    def read(self, tag, path):
        return subprocess.run(["git", "-C", self.dir, "show", f"{tag}:{path}"],
                              check=True, capture_output=True, text=True).stdout


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


FIELD_RE = re.compile(r"^(optional|repeated|required)?\s*([\w.]+|map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>)\s+(\w+)\s*=\s*(\d+)")


def parse_proto(text):
    """Returns (package, {message: [(number, name, label, type, map_key, map_value)]})."""
    text = strip_comments(text)
    package = re.search(r"^package\s+([\w.]+)\s*;", text, re.M).group(1)
    messages = {}
    for m in re.finditer(r"^message\s+(\w+)\s*\{(.*?)^\}", text, re.S | re.M):
        fields = []
        for line in m.group(2).split(";"):
            line = " ".join(line.split())
            f = FIELD_RE.match(line)
            if not f:
                if line and not line.startswith(("option", "reserved")):
                    raise SystemExit(f"unparsed proto line in {package}.{m.group(1)}: {line}")
                continue
            label, typ, mk, mv, name, num = f.groups()
            if mk:
                fields.append((int(num), name, "map", None, mk, mv))
            else:
                fields.append((int(num), name, label or "optional", typ, None, None))
        messages[m.group(1)] = fields
    return package, messages


GO_FIELD_RE = re.compile(r"^\s*(?:(\w+)\s+)?([\w.\[\]*]+)\s*`([^`]*)`")


def parse_go(texts):
    """Returns ({struct: {proto_number: info}}, {struct: embeds_typemeta}, {nonstruct: kind})."""
    structs, kinds, others = {}, {}, {}
    for text in texts:
        text = re.sub(r"^\s*//[^\n]*", "", text, flags=re.M)
        text = re.sub(r"^/\*.*?\*/", "", text, flags=re.S | re.M)
        for m in re.finditer(r"^type\s+(\w+)\s+struct\s*\{(\}|\n.*?^\})", text, re.S | re.M):
            name, body = m.group(1), m.group(2)
            fields = {}
            embeds_typemeta = False
            for line in body.split("\n"):
                line = re.sub(r"//.*", "", line) if "`" not in line else line
                f = GO_FIELD_RE.match(line)
                if not f:
                    continue
                fname, gotype, tags = f.groups()
                json_tag = re.search(r'json:"([^"]*)"', tags)
                proto_tag = re.search(r'protobuf:"([^"]*)"', tags)
                if gotype.endswith("TypeMeta") and fname is None:
                    embeds_typemeta = True
                if not proto_tag or proto_tag.group(1) == "-":
                    continue
                parts = proto_tag.group(1).split(",")
                num = int(parts[1])
                jparts = json_tag.group(1).split(",") if json_tag else [""]
                jname = jparts[0]
                opts = set(jparts[1:])
                inline = "inline" in opts or (fname is None and not jname)
                fields[num] = {
                    "json": jname or (fname or gotype.split(".")[-1]),
                    "omitempty": "omitempty" in opts,
                    "inline": inline,
                    "hidden": jname == "-",
                    "pointer": gotype.startswith("*"),
                    "gotype": gotype,
                }
            structs[name] = fields
            kinds[name] = embeds_typemeta
        for m in re.finditer(r"^type\s+(\w+)\s+(\[\][\w.*]+|map\[[\w.]+\][\w.*\[\]]+)\s*$", text, re.M):
            others[m.group(1)] = "array" if m.group(2).startswith("[]") else "map"
    return structs, kinds, others


def group_of(go_texts, path):
    for text in go_texts:
        g = re.search(r"^//\s*\+groupName=([\w.]*)\s*$", text, re.M)
        if g:
            return g.group(1)
    # k8s.io/api/<group>/<version>: apps, batch, autoscaling, extensions, policy; core is "".
    parts = path.rstrip("/").split("/")
    return "" if parts[-2] == "core" else parts[-2]


def collect(git, tag, roots):
    """Yields (dir, proto_text, go_texts) for every generated.proto under roots at tag."""
    files = git.files(tag)
    for path in files:
        if not path.endswith("/generated.proto"):
            continue
        d = path[: -len("/generated.proto")]
        if not any(r == "" or d == r or d.startswith(r + "/") for r in roots):
            continue
        gos = [git.read(tag, f) for f in files
               if f.startswith(d + "/") and f.count("/") == d.count("/") + 1 and f.endswith(".go")
               and not f.endswith("_test.go") and "zz_generated" not in f and not f.endswith(".pb.go")]
        yield d, git.read(tag, path), gos


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api", required=True)
    ap.add_argument("--apimachinery", required=True)
    ap.add_argument("--apiextensions", required=True)
    ap.add_argument("--aggregator", required=True)
    args = ap.parse_args()

    sources = [
        (Git(args.apimachinery), ["pkg/apis/meta/v1", "pkg/runtime", "pkg/api/resource", "pkg/util/intstr"], False),
        (Git(args.api), [""], True),
        (Git(args.apiextensions), ["pkg/apis/apiextensions"], True),
        (Git(args.aggregator), ["pkg/apis/apiregistration"], True),
    ]
    messages = {}   # full name -> (special, [fields])
    kinds = {}      # (apiVersion, kind) -> full name
    origin = {}     # full name -> tag
    used = []
    aliased = set()
    removed_fields = []
    retyped = set()  # (newest field type, an older release's type of the same field)

    def pfields_removed(known, pfields):
        have = {f[0] for f in known[1]}
        return any(num not in have for num, *_ in pfields)
    for i, tag in enumerate(RELEASES):
        for git, roots, old_ok in sources:
            t = tag
            if git.dir == args.aggregator and i == 0:
                t = AGGREGATOR_NEWEST
            try:
                found = list(collect(git, t, [r.strip("/") if r else "" for r in roots]))
            except subprocess.CalledProcessError:
                continue
            if found:
                used.append(f"{git.dir.rstrip('/').split('/')[-2].split('+')[-1]}@{t}")
            for d, proto, gos in found:
                if "/internal" in d or "testapigroup" in d or "/testing" in d:
                    continue
                package, msgs = parse_proto(proto)
                package = package.replace("-", "_")
                structs, is_kind, others = parse_go(gos)
                group = group_of(gos, d) if old_ok else None
                version = d.rstrip("/").split("/")[-1]
                for mname, pfields in msgs.items():
                    full = f"{package}.{mname}"
                    known = messages.get(full)
                    if known is not None:
                        # A field whose message type was renamed since (PersistentVolumeClaimSpec's
                        # `resources`: ResourceRequirements before 1.29, VolumeResourceRequirements
                        # now): the old type's fields are merged into the new one below.
                        newtypes = {f[0]: f[2] for f in known[1]}
                        for num, _, label, typ, _, _ in pfields:
                            if label == "map" or typ in SCALARS:
                                continue
                            q = typ.lstrip(".")
                            q = (q if "." in q else f"{package}.{q}").replace("-", "_")
                            nt = newtypes.get(num)
                            if nt is not None and nt != q and nt not in SCALARS and "," not in nt:
                                retyped.add((nt, q))
                    if known is not None and not pfields_removed(known, pfields):
                        continue
                    special = SPECIAL.get(full, "-")
                    if special == "-" and mname in others:
                        special = others[mname]
                    gofields = structs.get(mname)
                    if gofields is None and special == "-":
                        # `type MatchCondition v1.MatchCondition`: the JSON tags are the
                        # other package's, copied below from its message of the same name.
                        aliased.add(full)
                    out = []
                    for num, pname, label, typ, mk, mv in pfields:
                        g = (gofields or {}).get(num)
                        if g is None:
                            g = {"json": pname, "omitempty": False, "inline": False, "hidden": False,
                                 "pointer": False, "gotype": ""}
                        def qual(t):
                            if t in SCALARS:
                                return t
                            t = t.lstrip(".")
                            q = t if "." in t else f"{package}.{t}"
                            return q.replace("-", "_")
                        if label == "map":
                            ftype = f"{qual(mk)},{qual(mv)}"
                        else:
                            ftype = qual(typ)
                        flags = ""
                        flags += "r" if label == "repeated" else ""
                        flags += "m" if label == "map" else ""
                        flags += "o" if g["omitempty"] else ""
                        flags += "i" if g["inline"] else ""
                        flags += "p" if g["pointer"] else ""
                        flags += "x" if g["hidden"] else ""
                        out.append((num, g["json"], ftype, flags or "-"))
                    if known is not None:
                        # A field the newest release removed (ObjectMeta's clusterName = 15,
                        # which apiservers before 1.25 wrote into every object): kept with its
                        # old name, so old objects decode by name. Numbers are never reused.
                        have = {f[0] for f in known[1]}
                        known[1].extend(f for f in out if f[0] not in have)
                        removed_fields.extend(f"{short(full)}.{f[0]} ({f[1]})" for f in out if f[0] not in have)
                        continue
                    messages[full] = (special, out)
                    origin[full] = t
                    if group is not None and is_kind.get(mname):
                        av = f"{group}/{version}" if group else version
                        kinds.setdefault((av, mname), full)
    for full in sorted(aliased):
        name = full.rsplit(".", 1)[1]
        special, fields = messages[full]
        donors = [m for m in messages if m.rsplit(".", 1)[1] == name and m not in aliased
                  and {f[0] for f in messages[m][1]} >= {f[0] for f in fields}]
        if not donors:
            raise SystemExit(f"{full}: no Go struct and no message of that name to take tags from")
        donor = {f[0]: f for f in messages[donors[0]][1]}
        messages[full] = (special, [(n, donor[n][1], t, donor[n][3]) for n, _, t, _ in fields])
    # Renamed field types: when the newest type is the old one less some fields (same numbers,
    # names and types otherwise), the old type's other fields are kept in it, as for messages.
    for new, old in sorted(retyped):
        if new not in messages or old not in messages:
            continue
        nf = {f[0]: f for f in messages[new][1]}
        of = {f[0]: f for f in messages[old][1]}
        if not all(n in of and of[n][1:3] == f[1:3] for n, f in nf.items()):
            continue
        extra = [f for n, f in sorted(of.items()) if n not in nf]
        messages[new][1].extend(extra)
        removed_fields.extend(f"{short(new)}.{f[0]} ({f[1]}, from {short(old)})" for f in extra)
    # Resolve references; report the unresolved ones (the renderer falls back for them).
    missing = set()
    for full, (_, fields) in messages.items():
        for _, _, ftype, _ in fields:
            for t in ftype.split(","):
                if t not in SCALARS and t not in messages:
                    missing.add(t)
    for t in sorted(missing):
        print(f"gen.py: unresolved message type {t}", file=sys.stderr)

    w = sys.stdout.write
    w("# etcdsnap Kubernetes schema, generated by crates/k8s/schema/gen.py; do not edit.\n")
    w("# Source: Kubernetes' generated.proto and Go json tags (Apache-2.0, The Kubernetes Authors):\n")
    w("# " + " ".join(used) + "\n")
    w("# K apiVersion Kind message | M message special | F number jsonName type flags\n")
    w("# flags: r repeated, m map (type is key,value), o omitempty, i inline, p pointer, x json:\"-\"\n")
    for (av, kind), full in sorted(kinds.items()):
        w(f"K\t{av}\t{kind}\t{short(full)}\n")
    for full in sorted(messages):
        special, fields = messages[full]
        w(f"M\t{short(full)}\t{special}\n")
        for num, jname, ftype, flags in fields:
            ftype = ",".join(t if t in SCALARS else short(t) for t in ftype.split(","))
            w(f"F\t{num}\t{jname}\t{ftype}\t{flags}\n")
    print(f"gen.py: {len(kinds)} kinds, {len(messages)} messages; fields kept from older releases: "
          + ", ".join(removed_fields), file=sys.stderr)


if __name__ == "__main__":
    main()
