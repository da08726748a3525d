#!/usr/bin/env python3
"""Drive a real etcd (v3 gRPC-gateway JSON API on 127.0.0.1) with a Kubernetes-like workload.

Used by make-large-snapshot.sh; stdlib only.

  load-k8s-store.py --endpoint 127.0.0.1:PORT --phase a --keys N [--seed S] [--workers W]
      creates N objects under /registry/<resource>/<ns-NNN>/<name> (a few cluster-scoped), with
      on average ~1.5 updates per key (events one more) and ~5% deletes (a fifth of them re-created later), all
      interleaved in "time" order; writes go in /v3/kv/txn batches (many puts per txn, one key at
      most once per txn). When half of the writes are done every worker waits at a barrier and
      the store is compacted (physical) at the then current revision, and the apiserver-style
      key `compact_rev_key` is written. Events are attached to a pool of leases.
  load-k8s-store.py --endpoint ... --phase b [--seed S] [--frac-update 0.03 ...]
      "a bit later": lists the live /registry/ keys, updates ~3% of them, deletes ~1% and adds ~1%
      new objects.

Values look like Kubernetes protobuf envelopes: `k8s\\0` + runtime.Unknown{typeMeta{apiVersion,
kind}, raw = object{metadata = ObjectMeta{name, namespace, uid, creationTimestamp, labels,
annotations}, spec = random bytes}}; custom resources are JSON with a random base64 blob. The
random parts make the values incompressible. Sizes per resource are log-uniform in a range
(500 B .. 30 KB overall, mostly a few KB).

Prints one JSON line of statistics at the end (revisions, counts, bytes).
"""
import argparse
import base64
import hashlib
import http.client
import json
import math
import random
import sys
import threading
import time

# resource -> (key prefix under /registry/, apiVersion, kind, namespaced, weight, min size, max size)
RESOURCES = [
    ("pods", "v1", "Pod", True, 28, 2000, 14000),
    ("configmaps", "v1", "ConfigMap", True, 10, 500, 30000),
    ("secrets", "v1", "Secret", True, 8, 500, 4000),
    ("services/specs", "v1", "Service", True, 4, 800, 2500),
    ("services/endpoints", "v1", "Endpoints", True, 4, 500, 3000),
    ("deployments", "apps/v1", "Deployment", True, 5, 3000, 9000),
    ("replicasets", "apps/v1", "ReplicaSet", True, 8, 2000, 7000),
    ("events", "v1", "Event", True, 18, 500, 1500),
    ("serviceaccounts", "v1", "ServiceAccount", True, 4, 500, 1200),
    ("leases", "coordination.k8s.io/v1", "Lease", True, 3, 500, 800),
    ("minions", "v1", "Node", False, 1, 8000, 30000),
    ("example.com/widgets", "example.com/v1", "Widget", True, 3, 1000, 6000),  # JSON (CRD)
]
N_NAMESPACES = 200
N_LEASES = 32


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


def ld(field, data):
    return varint(field << 3 | 2) + varint(len(data)) + data


def vi(field, n):
    return varint(field << 3) + varint(n)


def b64(b):
    return base64.b64encode(b).decode("ascii")


class Obj:
    __slots__ = ("key", "res", "ns", "name", "size", "uid", "created")

    def __init__(self, key, res, ns, name, size, uid, created):
        self.key, self.res, self.ns, self.name = key, res, ns, name
        self.size, self.uid, self.created = size, uid, created


def make_value(rng, obj, gen):
    _, api, kind, _, _, _, _ = RES_BY_NAME[obj.res]
    size = max(200, int(obj.size * rng.uniform(0.9, 1.1)))
    if kind == "Widget":
        head = ('{"apiVersion":"%s","kind":"%s","metadata":{"name":"%s","namespace":"%s","uid":"%s",'
                '"generation":%d,"creationTimestamp":"%s"},"spec":{"blob":"'
                % (api, kind, obj.name, obj.ns, obj.uid, gen,
                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(obj.created))))
        n = max(0, (size - len(head) - 4) * 3 // 4)
        return (head + b64(rng.randbytes(n)) + '"}}\n').encode()
    meta = (ld(1, obj.name.encode()) + (ld(3, obj.ns.encode()) if obj.ns else b"")
            + ld(5, obj.uid.encode()) + vi(7, gen) + ld(8, vi(1, obj.created))
            + ld(11, ld(1, b"app") + ld(2, obj.name.rsplit("-", 1)[0].encode()))
            + ld(12, ld(1, b"example.com/revision") + ld(2, str(gen).encode())))
    type_meta = ld(1, ld(1, api.encode()) + ld(2, kind.encode()))
    fixed = 4 + len(type_meta) + 4 + len(meta) + 4 + 4
    spec = rng.randbytes(max(0, size - fixed))
    raw = ld(1, meta) + ld(2, spec)
    return b"k8s\x00" + type_meta + ld(2, raw)


RES_BY_NAME = {r[0]: r for r in RESOURCES}


class Client:
    def __init__(self, endpoint):
        host, port = endpoint.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.conn = None

    def call(self, path, payload):
        body = json.dumps(payload).encode()
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
                self.conn.request("POST", path, body, {"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise RuntimeError("%s -> HTTP %d: %s" % (path, resp.status, data[:500]))
                return json.loads(data)
            except (http.client.HTTPException, ConnectionError, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.5)


def plan_phase_a(rng, n_keys):
    """The objects and a time-ordered list of ops (t, kind, obj)."""
    weights = [r[4] for r in RESOURCES]
    objs = []
    counters = {}
    for i in range(N_NAMESPACES):
        ns = "ns-%03d" % i
        objs.append(Obj("/registry/namespaces/" + ns, None, "", ns, 600, "ns-uid-%06d" % i, 0))
    while len(objs) < n_keys:
        r = rng.choices(RESOURCES, weights)[0]
        res, _, _, namespaced, _, lo, hi = r
        c = counters.get(res, 0)
        counters[res] = c + 1
        uid = hashlib.md5(("%s/%d" % (res, c)).encode()).hexdigest()
        base = res.split("/")[-1].rstrip("s")
        name = "%s-%06d-%s" % (base, c, uid[:5])
        size = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        if namespaced:
            ns = "ns-%03d" % min(N_NAMESPACES - 1, int(rng.paretovariate(1.2)) - 1)
            key = "/registry/%s/%s/%s" % (res, ns, name)
        else:
            ns = ""
            key = "/registry/%s/%s" % (res, name)
        objs.append(Obj(key, res, ns, name, size, uid, 0))
    ops = []
    for o in objs:
        if o.res is None:  # namespaces: first, never updated
            o.res = "namespaces"
            ops.append((rng.uniform(0, 0.001), "put", o))
            continue
        tc = rng.uniform(0.0, 0.6)
        o.created = 1700000000 + int(tc * 86400 * 30)
        ops.append((tc, "put", o))
        n_up = rng.choices((0, 1, 2, 3, 4), (0.18, 0.35, 0.28, 0.14, 0.05))[0]
        if o.res == "events":
            n_up += 1
        ups = sorted(rng.uniform(tc, 1.0) for _ in range(n_up))
        if rng.random() < 0.05:
            td = rng.uniform(tc, 1.0)
            ups = [t for t in ups if t < td]
            ops.extend((t, "put", o) for t in ups)
            ops.append((td, "del", o))
            if rng.random() < 0.2:
                ops.append((rng.uniform(td, 1.0) + 1e-9, "put", o))
        else:
            ops.extend((t, "put", o) for t in ups)
    ops.sort(key=lambda x: x[0])
    return objs, ops


RES_BY_NAME["namespaces"] = ("namespaces", "v1", "Namespace", False, 0, 600, 600)


def worker_run(wid, endpoint, seed, stream, barrier, compact_at, leases, stats, txn_ops, txn_bytes):
    """Apply this worker's ops in order, batching into txns; stop at the barrier once."""
    rng = random.Random(seed * 1000 + wid)
    cli = Client(endpoint)
    gens = {}
    batch, keys, nbytes = [], set(), 0
    barrier_done = compact_at is None

    def flush():
        nonlocal batch, keys, nbytes
        if batch:
            r = cli.call("/v3/kv/txn", {"success": batch})
            stats["txns"] += 1
            stats["last_rev"] = max(stats["last_rev"], int(r["header"]["revision"]))
        batch, keys, nbytes = [], set(), 0

    for idx, kind, o in stream:
        if not barrier_done and idx >= compact_at:
            flush()
            barrier.wait()   # main thread compacts between the two waits
            barrier.wait()
            barrier_done = True
        if o.key in keys or len(batch) >= txn_ops or nbytes >= txn_bytes:
            flush()
        keys.add(o.key)
        if kind == "put":
            g = gens.get(o.key, 0) + 1
            gens[o.key] = g
            v = make_value(rng, o, g)
            req = {"key": b64(o.key.encode()), "value": b64(v)}
            if o.res == "events":
                req["lease"] = leases[int(o.uid[:8], 16) % len(leases)]
            batch.append({"requestPut": req})
            nbytes += len(v)
            stats["puts"] += 1
            stats["value_bytes"] += len(v)
        else:
            batch.append({"requestDeleteRange": {"key": b64(o.key.encode())}})
            stats["dels"] += 1
    flush()
    if not barrier_done:
        barrier.wait()
        barrier.wait()


def run_streams(endpoint, seed, ops, workers, compact_at, leases, txn_ops, txn_bytes, on_barrier):
    streams = [[] for _ in range(workers)]
    for idx, (_, kind, o) in enumerate(ops):
        streams[int(o.uid[-6:], 16) % workers].append((idx, kind, o))
    barrier = threading.Barrier(workers + 1)
    stats = [dict(txns=0, puts=0, dels=0, value_bytes=0, last_rev=0) for _ in range(workers)]
    errors = []

    def wrap(i):
        try:
            worker_run(i, endpoint, seed, streams[i], barrier, compact_at, leases, stats[i],
                       txn_ops, txn_bytes)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()
            raise

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    barrier_info = None
    if compact_at is not None:
        try:
            barrier.wait()
            barrier_info = on_barrier()
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    total = {k: sum(s[k] for s in stats) for k in ("txns", "puts", "dels", "value_bytes")}
    total["last_rev"] = max(s["last_rev"] for s in stats)
    return total, barrier_info


def current_revision(cli):
    r = cli.call("/v3/kv/range", {"key": b64(b"compact_rev_key")})
    return int(r["header"]["revision"])


def phase_a(args):
    rng = random.Random(args.seed)
    t0 = time.time()
    objs, ops = plan_phase_a(rng, args.keys)
    cli = Client(args.endpoint)
    leases = []
    for i in range(N_LEASES):
        r = cli.call("/v3/lease/grant", {"TTL": 86400 * 365})
        leases.append(r["ID"])
    compact_at = len(ops) // 2
    progress = {}

    def on_barrier():
        rev = current_revision(cli)
        t = time.time()
        cli.call("/v3/kv/compaction", {"revision": str(rev), "physical": True})
        progress["compact_seconds"] = round(time.time() - t, 1)
        # what kube-apiserver's compactor writes: compact_rev_key, version = compactions done
        r = cli.call("/v3/kv/put", {"key": b64(b"compact_rev_key"), "value": b64(str(rev).encode())})
        progress["compact_rev_key_rev"] = int(r["header"]["revision"])
        sys.stderr.write("[load] compacted at revision %d after %d of %d ops (%.0fs)\n"
                         % (rev, compact_at, len(ops), time.time() - t0))
        return rev

    total, compact_rev = run_streams(args.endpoint, args.seed, ops, args.workers, compact_at,
                                     leases, args.txn_ops, args.txn_bytes, on_barrier)
    head = current_revision(cli)
    out = dict(phase="a", keys_planned=len(objs), ops=len(ops), compact_revision=compact_rev,
               head_revision=head, leases=len(leases), seconds=round(time.time() - t0, 1),
               **total, **progress)
    print(json.dumps(out))


def phase_b(args):
    rng = random.Random(args.seed + 1)
    t0 = time.time()
    cli = Client(args.endpoint)
    r = cli.call("/v3/kv/range", {"key": b64(b"/registry/"), "range_end": b64(b"/registry0"),
                                  "keys_only": True})
    keys = [base64.b64decode(kv["key"]).decode() for kv in r.get("kvs", [])]
    leases = [l["ID"] for l in cli.call("/v3/lease/leases", {}).get("leases", [])] or ["0"]
    ops = []
    for k in keys:
        parts = k.split("/")
        if parts[2] == "namespaces":
            continue
        res = "/".join(parts[2:-2]) if len(parts) >= 5 else parts[2]
        if res not in RES_BY_NAME:
            continue
        rr = RES_BY_NAME[res]
        ns = parts[-2] if rr[3] else ""
        uid = hashlib.md5(k.encode()).hexdigest()
        o = Obj(k, res, ns, parts[-1], int(math.exp(rng.uniform(math.log(rr[5]), math.log(rr[6])))),
                uid, 1700000000 + 86400 * 31)
        x = rng.random()
        if x < args.frac_update:
            ops.append((rng.random(), "put", o))
        elif x < args.frac_update + args.frac_delete:
            ops.append((rng.random(), "del", o))
    n_add = int(len(keys) * args.frac_add)
    weights = [r[4] for r in RESOURCES]
    for i in range(n_add):
        res, _, _, namespaced, _, lo, hi = rng.choices(RESOURCES, weights)[0]
        uid = hashlib.md5(("b/%s/%d" % (res, i)).encode()).hexdigest()
        name = "%s-b%05d-%s" % (res.split("/")[-1].rstrip("s"), i, uid[:5])
        ns = "ns-%03d" % rng.randrange(N_NAMESPACES) if namespaced else ""
        key = "/registry/%s/%s%s" % (res, ns + "/" if ns else "", name)
        size = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        ops.append((rng.random(), "put", Obj(key, res, ns, name, size, uid, 1700000000 + 86400 * 31)))
    ops.sort(key=lambda x: x[0])
    total, _ = run_streams(args.endpoint, args.seed + 1, ops, args.workers, None, leases,
                           args.txn_ops, args.txn_bytes, lambda: None)
    head = current_revision(cli)
    out = dict(phase="b", live_keys_before=len(keys), ops=len(ops), added=n_add, head_revision=head,
               seconds=round(time.time() - t0, 1), **total)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="HOST:PORT of the client URL (127.0.0.1 only)")
    ap.add_argument("--phase", choices=("a", "b"), required=True)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--txn-ops", type=int, default=128)
    ap.add_argument("--txn-bytes", type=int, default=2 << 20, help="raw value bytes per txn (soft)")
    ap.add_argument("--frac-update", type=float, default=0.03)
    ap.add_argument("--frac-delete", type=float, default=0.01)
    ap.add_argument("--frac-add", type=float, default=0.01)
    args = ap.parse_args()
    host = args.endpoint.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        sys.exit("refusing a non-loopback endpoint")
    (phase_a if args.phase == "a" else phase_b)(args)


if __name__ == "__main__":
    main()
