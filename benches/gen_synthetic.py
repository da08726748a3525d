#!/usr/bin/env python3
"""Writes a synthetic but valid etcd-like bbolt snapshot of about SIZE bytes, for timing
`etcdsnap verify` when no large snapshot made by real etcd is at hand.

The layout follows what etcd 3.5 writes: meta pages 0 and 1 (no persisted freelist), a root
leaf listing the ten buckets (all inline except `key`), and a `key` bucket whose B+tree holds
one revision per put: N user keys written round-robin, so each key's history is versions
1, 2, 3, ... with a constant create_revision. Values are KeyValue protobufs of ~VALUE bytes.
A sha256 trailer is appended, as `etcdctl snapshot save` does.

usage: gen_synthetic.py OUT [SIZE_MB=1536] [KEYS=100000] [VALUE=1000] [k8s]

With `k8s`, values are Kubernetes protobuf envelopes instead of filler: every fourth key is a
core/v1 Secret under /registry/secrets/ (a `data` entry of ~VALUE bytes), the others ConfigMaps
(for timing `redact`, which rewrites Secret payloads).
"""
import hashlib
import struct
import sys

PS = 4096


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def field_int(num, v):
    return varint(num << 3) + varint(v) if v else b""


def kv(key, create, mod, version, value):
    return (field_bytes(1, key) + field_int(2, create) + field_int(3, mod)
            + field_int(4, version) + field_bytes(5, value))


def rev(main, sub=0):
    return struct.pack(">Q", main) + b"_" + struct.pack(">Q", sub)


def page_header(pid, flags, count, overflow=0):
    return struct.pack("<QHHI", pid, flags, count, overflow)


def leaf_page(pid, items, flags_of=None):
    """items: list of (key, value, elem_flags). Returns page bytes (may overflow)."""
    n = len(items)
    elems = bytearray()
    data = bytearray()
    for i, (k, v, f) in enumerate(items):
        pos = 16 * (n - i) + len(data)
        elems += struct.pack("<IIII", f, pos, len(k), len(v))
        data += k + v
    body = page_header(pid, 0x02, n) + elems + data
    pages = (len(body) + PS - 1) // PS
    body = page_header(pid, 0x02, n, pages - 1) + elems + data
    return body.ljust(pages * PS, b"\0")


def branch_page(pid, items):
    n = len(items)
    elems = bytearray()
    data = bytearray()
    for i, (k, child) in enumerate(items):
        pos = 16 * (n - i) + len(data)
        elems += struct.pack("<IIQ", pos, len(k), child)
        data += k
    body = page_header(pid, 0x01, n) + elems + data
    assert len(body) <= PS
    return body.ljust(PS, b"\0")


def inline_bucket(items):
    page = bytearray(leaf_page(0, items))
    n = len(items)
    used = 16 + 16 * n + sum(len(k) + len(v) for k, v, _ in items)
    return struct.pack("<QQ", 0, 0) + bytes(page[:used])


def meta(pid, root, hwm, txid):
    m = struct.pack("<IIIIQQQQQ", 0xED0CDAED, 2, PS, 0, root, 0, 0xFFFFFFFFFFFFFFFF, hwm, txid)
    h = 0xCBF29CE484222325
    for b in m:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return (page_header(pid, 0x04, 0) + m + struct.pack("<Q", h)).ljust(PS, b"\0")


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) * 1000 * 1000 if len(sys.argv) > 2 else 1536 * 1000 * 1000
    nkeys = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    vsize = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    sha = hashlib.sha256()
    f = open(out, "wb")
    next_page = 2

    def write(b):
        sha.update(b)
        f.write(b)

    # Reserve pages 0, 1; data pages follow; metas written last (seek back).
    f.write(b"\0" * 2 * PS)
    level = []  # (first_key, page_id) of the current tree level
    created = {}
    versions = {}
    main_rev = 1
    filler = bytes((i * 7) & 0xFF for i in range(vsize))
    k8s = len(sys.argv) > 5 and sys.argv[5] == "k8s"

    def envelope(kind, name, ns, payload):
        tm = field_bytes(1, b"v1") + field_bytes(2, kind)
        meta = field_bytes(1, name) + field_bytes(3, ns)
        entry = field_bytes(1, b"password") + field_bytes(2, payload)
        raw = field_bytes(1, meta) + field_bytes(2, entry) + field_bytes(3, b"Opaque")
        return b"k8s\0" + field_bytes(1, tm) + field_bytes(2, raw)

    def value_of(i, ver):
        if not k8s:
            return filler
        ns = b"ns-%03d" % (i % 500)
        name = b"object-%07d" % i
        kind = b"Secret" if i % 4 == 0 else b"ConfigMap"
        return envelope(kind, name, ns, filler[: max(1, vsize - 80 - ver % 7)])
    while next_page * PS < size:
        items = []
        room = PS - 16
        while True:
            main_rev += 1
            i = (main_rev - 2) % nkeys
            res = b"secrets" if k8s and i % 4 == 0 else b"configmaps"
            ukey = b"/registry/%s/ns-%03d/object-%07d" % (res, i % 500, i)
            ver = versions.get(ukey, 0) + 1
            versions[ukey] = ver
            created.setdefault(ukey, main_rev)
            k = rev(main_rev)
            v = kv(ukey, created[ukey], main_rev, ver, value_of(i, ver))
            need = 16 + len(k) + len(v)
            if items and need > room:
                main_rev -= 1
                versions[ukey] -= 1
                if versions[ukey] == 0:
                    del versions[ukey]
                    del created[ukey]
                break
            items.append((k, v, 0))
            room -= need
        pg = leaf_page(next_page, items)
        level.append((items[0][0], next_page))
        write_at = next_page
        next_page += len(pg) // PS
        f.seek(write_at * PS)
        f.write(pg)
    # Branch levels.
    while len(level) > 1:
        upper = []
        per = (PS - 16) // (16 + 17)
        for s in range(0, len(level), per):
            chunk = level[s:s + per]
            pg = branch_page(next_page, chunk)
            f.seek(next_page * PS)
            f.write(pg)
            upper.append((chunk[0][0], next_page))
            next_page += 1
        level = upper
    key_root = level[0][1]
    # Root bucket leaf: nine inline buckets and `key`.
    cindex = struct.pack(">Q", main_rev + 10)
    meta_items = sorted([
        (b"confState", b'{"voters":[10276657743932975437],"auto_leave":false}', 0),
        (b"consistent_index", cindex, 0),
        (b"term", struct.pack(">Q", 2), 0),
    ])
    buckets = {
        b"alarm": inline_bucket([]),
        b"auth": inline_bucket([(b"authEnabled", b"\0", 0), (b"authRevision", struct.pack(">Q", 1), 0)]),
        b"authRoles": inline_bucket([]),
        b"authUsers": inline_bucket([]),
        b"cluster": inline_bucket([(b"clusterVersion", b"3.5.0", 0)]),
        b"key": struct.pack("<QQ", key_root, 0),
        b"lease": inline_bucket([]),
        b"members": inline_bucket([(b"8e9e05c52164694d", b'{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}', 0)]),
        b"members_removed": inline_bucket([]),
        b"meta": inline_bucket(meta_items),
    }
    root = next_page
    pg = leaf_page(root, [(k, v, 1) for k, v in sorted(buckets.items())])
    f.seek(root * PS)
    f.write(pg)
    next_page += len(pg) // PS
    hwm = next_page
    f.seek(0)
    f.write(meta(0, root, hwm, 11))
    f.write(meta(1, root, hwm, 10))
    f.close()
    # Hash the whole file now that the metas are in place, then append the trailer.
    sha = hashlib.sha256()
    with open(out, "rb") as r:
        while True:
            b = r.read(1 << 24)
            if not b:
                break
            sha.update(b)
    with open(out, "ab") as a:
        a.write(sha.digest())
    print(f"{out}: {hwm} pages, {main_rev - 1} revisions, key root {key_root}")


if __name__ == "__main__":
    main()
