#!/usr/bin/env python3
"""Drive a real etcd (v3 gRPC-gateway JSON API on 127.0.0.1) with a Kubernetes-like workload.

Used by make-large-snapshot.sh. Shape large (the default): stdlib only, over etcd's JSON gateway.
Shape small: over etcd's gRPC API with grpcio (PyPI), protobuf written by hand.

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

  load-k8s-store.py --endpoint ... --shape small --phase a --keys N [--workers 64 --procs 2]
      many small revisions as kube-apiserver writes them: one write per revision, events with
      leases that expire, compactions by kube-apiserver's compactor (see "Shape small" below).
      --dry-run plans and prints what the snapshot will hold (stored revisions, bytes).

Values look like Kubernetes protobuf envelopes: `k8s\\0` + runtime.Unknown{typeMeta{apiVersion,
kind}, raw = object{metadata = ObjectMeta{name, namespace, uid, creationTimestamp, labels,
annotations}, spec = random bytes}}; custom resources are JSON with a random base64 blob. The
random parts make the values incompressible. Sizes per resource are log-uniform in a range
(500 B .. 30 KB overall, mostly a few KB).

Prints one JSON line of statistics at the end (revisions, counts, bytes).
"""
import argparse
import asyncio
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


# --------------------------------------------------------------------------------------------
# Shape "small": many small objects and revisions, as kube-apiserver writes them.
#
# The store of a running cluster over --minutes of simulated time (default 120), one write per
# revision (kube-apiserver's GuaranteedUpdate: a txn comparing the key's mod_revision, one put or
# delete, a range on failure). Long-lived objects (pods, replicasets, configmaps, ...) are mostly
# created in the first minutes and then updated (status updates, endpoint changes, controller
# writes); pods are bound and started right after creation, and 15% are deleted (after a
# deletionTimestamp update) and replaced; node leases are renewed every --lease-renew seconds and
# nodes post their status every --node-status minutes. Events (a --event-share of the live keys
# at the end) are created at a constant rate, updated 0-3 times within 10 minutes (count++), and
# carry a lease: one lease per minute (the API server reuses a lease for 60 s), TTL --event-ttl
# minutes + 1; the lease of minute m is revoked at minute m + TTL + 1, which is what etcd does when
# it expires, and deletes its events in one revision. kube-apiserver's compactor runs every
# --compact-minutes: a txn on `compact_rev_key` (compare its version), then Compact to the revision
# that the previous run saw; the first run only writes the key.
# Transport: etcd's gRPC API through grpcio (protobuf written by hand, --workers lanes in flight,
# one key always in the same lane, so its writes stay in order).
# --------------------------------------------------------------------------------------------

# resource, apiVersion, kind, weight among long-lived objects, min size, max size,
# later updates per object (mean), share deleted
SMALL_RESOURCES = [
    ("pods", "v1", "Pod", 30, 1000, 4000, 1.0, 0.15),
    ("replicasets", "apps/v1", "ReplicaSet", 8, 1000, 3000, 0.5, 0.05),
    ("deployments", "apps/v1", "Deployment", 3, 1500, 4000, 1.0, 0.01),
    ("configmaps", "v1", "ConfigMap", 10, 200, 6000, 0.3, 0.02),
    ("secrets", "v1", "Secret", 10, 300, 3000, 0.2, 0.02),
    ("serviceaccounts", "v1", "ServiceAccount", 6, 200, 500, 0.05, 0.01),
    ("services/specs", "v1", "Service", 5, 400, 1200, 0.1, 0.01),
    ("services/endpoints", "v1", "Endpoints", 5, 300, 1500, 2.5, 0.01),
    ("endpointslices", "discovery.k8s.io/v1", "EndpointSlice", 5, 300, 1500, 2.5, 0.02),
    ("controllerrevisions", "apps/v1", "ControllerRevision", 3, 500, 3000, 0.0, 0.02),
    ("jobs", "batch/v1", "Job", 2, 1000, 3000, 2.0, 0.10),
    ("persistentvolumeclaims", "v1", "PersistentVolumeClaim", 2, 500, 1500, 0.2, 0.02),
    ("rolebindings", "rbac.authorization.k8s.io/v1", "RoleBinding", 3, 300, 800, 0.0, 0.01),
    ("example.com/widgets", "example.com/v1", "Widget", 2, 500, 3000, 1.0, 0.02),
]
for _r in SMALL_RESOURCES:
    RES_BY_NAME.setdefault(_r[0], (_r[0], _r[1], _r[2], True, 0, _r[4], _r[5]))
RES_BY_NAME["events"] = ("events", "v1", "Event", True, 0, 300, 1000)
RES_BY_NAME["minions"] = ("minions", "v1", "Node", False, 0, 3000, 8000)
RES_BY_NAME["leases"] = ("leases", "coordination.k8s.io/v1", "Lease", True, 0, 250, 400)

PUT, DEL = 0, 1


class SObj:
    __slots__ = ("key", "res", "ns", "name", "size", "uid", "created", "lane", "rev", "gen",
                 "ver", "is_event")

    def __init__(self, key, res, ns, name, size, uid, created, lane):
        self.key, self.res, self.ns, self.name = key, res, ns, name
        self.size, self.uid, self.created, self.lane = size, uid, created, lane
        self.rev, self.gen, self.ver, self.is_event = 0, 0, 0, res == "events"


def plan_small(rng, args):
    """Objects and, per simulated minute, the time-ordered writes [(t, PUT|DEL, obj)].

    Also predicts what the snapshot will hold (stored revisions after the last compaction)."""
    D, ttl = args.minutes, args.event_ttl
    segs = [[] for _ in range(D)]
    counters = {}
    n_obj = [0]
    lanes = args.workers
    created_t = 1700000000

    def new_obj(res, ns, lo, hi, t, name=None):
        c = counters.get(res, 0)
        counters[res] = c + 1
        uid = "%032x" % rng.getrandbits(128)
        if name is None:
            base = res.split("/")[-1].rstrip("s")
            name = "%s-%06d-%s" % (base, c, uid[:5])
        key = "/registry/%s/%s%s" % (res, ns + "/" if ns else "", name)
        size = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        o = SObj(key.encode(), res, ns, name, size, uid, created_t + int(t * 60), n_obj[0] % lanes)
        n_obj[0] += 1
        return o

    # per key: the write times, to predict what the last compaction keeps
    C = args.compact_minutes
    last_tick = (D - 1) // C * C
    t_c = last_tick - C if last_tick - C > 0 else 0
    pred = dict(stored=0, tombstones_stored=0, live=0, writes=0, revoked_keys=0, value_bytes=0)
    # bytes held by the key bucket, minute by minute (an entry is born at its write and dies
    # at the first compaction whose revision is at or past the key's next write): the peak is
    # about the file's high-water mark, since compacted pages are reused, not returned
    held = [0] * (D + 2)

    def death(t_next):
        """Minute at which an entry superseded at t_next is compacted away (D+1: never)."""
        k = int(t_next // C) + 1  # first tick after the next write: its revision is >= t_next
        tick = (k + 1) * C  # the compaction that goes to that tick's revision runs one tick later
        return min(tick, D + 1)

    def hold(o, writes):
        cost = len(o.key) + 90  # revision key, element header, KeyValue fields
        for i, (t, code) in enumerate(writes):
            b = (o.size + cost) if code == PUT else cost
            held[int(t)] += b
            if i + 1 < len(writes):
                d = death(writes[i + 1][0])
            elif code == DEL:
                d = death(t)
            else:
                d = D + 1
            held[d] -= b

    def add(o, writes):
        """writes: [(t, PUT|DEL)] in time order, t < D; an event's last DEL is its lease's
        revocation (etcd deletes it), not a write of the driver."""
        hold(o, writes)
        before = [w for w in writes if w[0] < t_c]
        after = [w for w in writes if w[0] >= t_c]
        pred["stored"] += len(after) + (1 if before and before[-1][1] == PUT else 0)
        pred["tombstones_stored"] += sum(1 for w in after if w[1] == DEL)
        if writes and writes[-1][1] == PUT:
            pred["live"] += 1
        pred["value_bytes"] += o.size * sum(1 for w in writes if w[1] == PUT)
        if o.is_event and writes[-1][1] == DEL:
            writes = writes[:-1]
        for t, code in writes:
            segs[int(t)].append((t, code, o))
        pred["writes"] += len(writes)

    def ns_of():
        return "ns-%03d" % min(N_NAMESPACES - 1, int(rng.paretovariate(1.2)) - 1)

    for i in range(N_NAMESPACES):
        o = new_obj("namespaces", "", 300, 500, 0, name="ns-%03d" % i)
        add(o, [(rng.uniform(0, 0.01), PUT)])

    n_live_target = args.keys
    n_events_live = int(n_live_target * args.event_share)
    n_nodes = max(3, n_live_target // args.objects_per_node)
    n_long = n_live_target - n_events_live - 2 * n_nodes - N_NAMESPACES

    # nodes and their leases
    for i in range(n_nodes):
        name = "node-%05d" % i
        node = new_obj("minions", "", 3000, 8000, 0, name=name)
        t0 = rng.uniform(0, 1)
        w = [(t0, PUT)]
        t = t0 + rng.uniform(0, args.node_status)
        while t < D:
            w.append((t, PUT))
            t += args.node_status * rng.uniform(0.9, 1.1)
        add(node, w)
        lease = new_obj("leases", "kube-node-lease", 250, 400, 0, name=name)
        period = args.lease_renew / 60.0
        t = t0 + 0.01
        w = []
        while t < D:
            w.append((t, PUT))
            t += period
        add(lease, w)

    weights = [r[3] for r in SMALL_RESOURCES]
    made = 0
    replacements = []
    while made < n_long:
        res, _, _, _, lo, hi, ups, pdel = rng.choices(SMALL_RESOURCES, weights)[0]
        if replacements:
            tc = replacements.pop()
        else:
            tc = rng.uniform(0, 2) if rng.random() < 0.8 else rng.uniform(0, D)
        o = new_obj(res, ns_of(), lo, hi, tc)
        w = [(tc, PUT)]
        if res == "pods":  # bound, then started
            w.append((tc + rng.uniform(0.001, 0.1), PUT))
            w.append((tc + rng.uniform(0.1, 1.0), PUT))
        n_up = min(int(rng.expovariate(1.0 / ups)) if ups > 0 else 0, 50)
        w.extend((rng.uniform(tc, D), PUT) for _ in range(n_up))
        w.sort()
        w = [x for x in w if x[0] < D]
        if rng.random() < pdel:
            td = rng.uniform(tc + 0.5, D + (D - tc))  # some deletes fall after the end: not done
            if td < D - 0.02:
                w = [x for x in w if x[0] < td - 0.01]
                if res == "pods":  # deletionTimestamp set, then removed
                    w.append((td - 0.005, PUT))
                w.append((td, DEL))
                if res in ("pods", "jobs") and td + 0.01 < D:
                    replacements.append(td + 0.01)  # the controller creates a new one
                    made -= 1  # the replacement is the one counted
        made += 1
        add(o, w)

    # events: constant rate so that n_events_live are alive at the end (TTL minutes' worth)
    rate = n_events_live / float(ttl)  # per minute
    n_events = int(rate * D)
    for i in range(n_events):
        tc = rng.uniform(0, D)
        ns = ns_of()
        o = new_obj("events", ns, 300, 1000, tc,
                    name="pod-%06d.%016x" % (rng.randrange(10**6), rng.getrandbits(64)))
        k = rng.choices((0, 1, 2, 3), (0.55, 0.25, 0.12, 0.08))[0]
        w = [(tc, PUT)] + sorted((min(D - 1e-6, tc + rng.uniform(0, 10)), PUT) for _ in range(k))
        w = [x for x in w if x[0] < D]
        lm = int(w[-1][0])  # lease minute of the last write
        gone = lm + ttl + 1
        add(o, w + ([(gone, DEL)] if gone < D else []))
        if gone < D:
            pred["revoked_keys"] += 1
    for s in segs:
        s.sort(key=lambda x: x[0])
    acc, peak, curve = 0, 0, []
    for m in range(D + 1):
        acc += held[m]
        peak = max(peak, acc)
        curve.append(acc)
    pred["peak_minute"] = curve.index(peak)
    plan_small.curve = curve
    pred["peak_key_bucket_bytes"] = peak
    pred["final_key_bucket_bytes"] = acc
    pred.update(objects=n_obj[0], nodes=n_nodes, events_created=n_events,
                compaction_keeps_from_minute=t_c)
    return segs, pred


def pb_scan(buf):
    """Top-level fields of a protobuf message: {field: [values]} (varints as int, bytes as bytes)."""
    out = {}
    i, n = 0, len(buf)
    while i < n:
        tag, shift = 0, 0
        while True:
            b = buf[i]
            i += 1
            tag |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, shift = 0, 0
            while True:
                b = buf[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
        elif wt == 2:
            ln, shift = 0, 0
            while True:
                b = buf[i]
                i += 1
                ln |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            v = buf[i:i + ln]
            i += ln
        elif wt == 1:
            v = buf[i:i + 8]
            i += 8
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(f, []).append(v)
    return out


def header_rev(resp):
    return pb_scan(pb_scan(resp)[1][0]).get(3, [0])[0]


def txn_one(key, mod_rev, op):
    """kube-apiserver's write: If(mod_revision(key) == mod_rev) Then(op) Else(Get(key))."""
    cmp = vi(2, 2) + ld(3, key) + vi(6, mod_rev)  # target MOD, result EQUAL (0)
    return ld(1, cmp) + ld(2, op) + ld(3, ld(1, ld(1, key)))


def resp_rev_ok(resp):
    """(header revision, succeeded) of a TxnResponse."""
    r = pb_scan(resp)
    return pb_scan(r[1][0])[3][0], bool(r.get(2, [0])[0])


async def small_async(args, segs, p, nprocs, barrier, lease_ids):
    """Process p of nprocs: its lanes (lane % nprocs == p) minute by minute; process 0 also
    grants and revokes the event leases and runs the compactor between minutes."""
    import grpc

    opts = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    ch = grpc.aio.insecure_channel(args.endpoint, options=opts)
    txn = ch.unary_unary("/etcdserverpb.KV/Txn")
    grant = ch.unary_unary("/etcdserverpb.Lease/LeaseGrant")
    revoke = ch.unary_unary("/etcdserverpb.Lease/LeaseRevoke")
    compact = ch.unary_unary("/etcdserverpb.KV/Compact")
    st = dict(txns=0, puts=0, dels=0, value_bytes=0, conflicts=0, leases_granted=0,
              leases_revoked=0, compactions=[], event_puts_with_lease=0)
    rngs = {i: random.Random(args.seed * 7919 + i) for i in range(p, args.workers, nprocs)}
    leases = {}
    D = args.minutes
    t0 = time.time()

    async def lane(i, ops):
        rng = rngs[i]
        for t, code, o in ops:
            if code == PUT:
                o.gen += 1
                v = make_value(rng, o, o.gen)
                put = ld(1, o.key) + ld(2, v)
                if o.is_event:
                    put += vi(3, lease_ids[int(t)])
                    st["event_puts_with_lease"] += 1
                req = txn_one(o.key, o.rev, ld(2, put))
                st["puts"] += 1
                st["value_bytes"] += len(v)
            else:
                req = txn_one(o.key, o.rev, ld(3, ld(1, o.key)))
                st["dels"] += 1
            rev, ok = resp_rev_ok(await txn(req))
            st["txns"] += 1
            if ok:
                o.rev = rev if code == PUT else 0
            else:
                st["conflicts"] += 1

    compact_ver, compact_prev = 0, 0
    for m in range(D):
        if p == 0:
            # lease expiry (revoke) of minute m - ttl - 1, a new lease for this minute's events
            old = leases.pop(m - args.event_ttl - 1, None)
            if old is not None:
                try:
                    await revoke(vi(1, old))
                    st["leases_revoked"] += 1
                except grpc.aio.AioRpcError as e:
                    if "not found" not in str(e.details()):
                        raise
            r = pb_scan(await grant(vi(1, (args.event_ttl + 1) * 60)))
            leases[m] = lease_ids[m] = r[2][0]
            st["leases_granted"] += 1
            if m % args.compact_minutes == 0:  # kube-apiserver's compactor
                key = b"compact_rev_key"
                cmp = ld(3, key) + vi(4, compact_ver)  # target VERSION (0), result EQUAL
                req = ld(1, cmp) + ld(2, ld(2, ld(1, key) + ld(2, str(compact_prev).encode()))) \
                    + ld(3, ld(1, ld(1, key)))
                cur, ok = resp_rev_ok(await txn(req))
                if not ok:
                    raise RuntimeError("compact_rev_key: version is not %d" % compact_ver)
                compact_ver += 1
                if compact_prev:
                    tc = time.time()
                    await compact(vi(1, compact_prev) + vi(2, 1))
                    st["compactions"].append(dict(minute=m, revision=compact_prev,
                                                  seconds=round(time.time() - tc, 1)))
                    sys.stderr.write("[load] minute %d: compacted at revision %d\n"
                                     % (m, compact_prev))
                compact_prev = cur
        if barrier is not None:
            barrier.wait()
        per_lane = {}
        for op in segs[m]:
            ln = op[2].lane
            if ln % nprocs == p:
                per_lane.setdefault(ln, []).append(op)
        segs[m] = None
        await asyncio.gather(*(lane(i, ops) for i, ops in per_lane.items()))
        if barrier is not None:
            barrier.wait()
        if p == 0 and (m % 10 == 9 or m == D - 1):
            el = time.time() - t0
            sys.stderr.write("[load] minute %d/%d: %d txns in process 0 (of %d), %.0f/s, %.0fs\n"
                             % (m + 1, D, st["txns"], nprocs, st["txns"] * nprocs / el, el))
    if p == 0:
        r = pb_scan(await ch.unary_unary("/etcdserverpb.KV/Range")(ld(1, b"compact_rev_key")))
        st["head_revision"] = pb_scan(r[1][0])[3][0]
        st["leases_alive"] = len(leases)
    await ch.close()
    return st


def small_phase(args):
    import multiprocessing as mp

    rng = random.Random(args.seed)
    t0 = time.time()
    segs, pred = plan_small(rng, args)
    plan_s = round(time.time() - t0, 1)
    sys.stderr.write("[load] plan (%.0fs): %s\n" % (plan_s, json.dumps(pred)))
    if args.dry_run:
        print(json.dumps(dict(shape="small", predicted=pred)))
        return
    n = max(1, args.procs)
    lease_ids = [0] * args.minutes
    if n == 1:
        sts = [asyncio.run(small_async(args, segs, 0, 1, None, lease_ids))]
    else:
        # fork after planning (the plan is shared copy-on-write); grpc is imported in the children
        ctx = mp.get_context("fork")
        barrier = ctx.Barrier(n)
        lease_ids = ctx.Array("q", args.minutes, lock=False)
        q = ctx.Queue()

        def child(p):
            try:
                q.put((p, asyncio.run(small_async(args, segs, p, n, barrier, lease_ids))))
            except BaseException as e:  # noqa: BLE001
                barrier.abort()
                q.put((p, "error: %r" % e))
                raise

        procs = [ctx.Process(target=child, args=(p,)) for p in range(n)]
        for pr in procs:
            pr.start()
        res = dict(q.get() for _ in procs)
        for pr in procs:
            pr.join()
        bad = [v for v in res.values() if isinstance(v, str)]
        if bad:
            sys.exit("load failed: %s" % bad)
        sts = [res[p] for p in range(n)]
    st = dict(sts[0])
    for k in ("txns", "puts", "dels", "value_bytes", "conflicts", "event_puts_with_lease"):
        st[k] = sum(x[k] for x in sts)
    out = dict(shape="small", phase="a", keys=args.keys, minutes=args.minutes,
               workers=args.workers, procs=n, predicted=pred, plan_seconds=plan_s,
               seconds=round(time.time() - t0, 1), **st)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="HOST:PORT of the client URL (127.0.0.1 only)")
    ap.add_argument("--shape", choices=("large", "small"), default="large",
                    help="large: few large values, txns of many puts (phases a and b); "
                         "small: many small revisions, one write per revision (phase a only)")
    ap.add_argument("--phase", choices=("a", "b"), required=True)
    ap.add_argument("--keys", type=int, default=100000,
                    help="large: objects created; small: live keys at the end (about)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=4,
                    help="large: HTTP connections; small: gRPC calls in flight (lanes)")
    small = ap.add_argument_group("shape small")
    small.add_argument("--minutes", type=int, default=120, help="simulated cluster minutes")
    small.add_argument("--event-ttl", type=int, default=60, help="event TTL, minutes")
    small.add_argument("--event-share", type=float, default=0.3, help="events among live keys")
    small.add_argument("--objects-per-node", type=int, default=700)
    small.add_argument("--lease-renew", type=float, default=30.0, help="node lease renewal, s")
    small.add_argument("--node-status", type=float, default=5.0, help="node status period, min")
    small.add_argument("--compact-minutes", type=int, default=30,
                       help="kube-apiserver compactor period, minutes")
    small.add_argument("--procs", type=int, default=2, help="load processes (lanes split)")
    small.add_argument("--dry-run", action="store_true", help="plan and predict only")
    ap.add_argument("--txn-ops", type=int, default=128)
    ap.add_argument("--txn-bytes", type=int, default=2 << 20, help="raw value bytes per txn (soft)")
    ap.add_argument("--frac-update", type=float, default=0.03)
    ap.add_argument("--frac-delete", type=float, default=0.01)
    ap.add_argument("--frac-add", type=float, default=0.01)
    args = ap.parse_args()
    host = args.endpoint.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        sys.exit("refusing a non-loopback endpoint")
    if args.shape == "small":
        if args.phase != "a":
            sys.exit("shape small has phase a only")
        small_phase(args)
        return
    (phase_a if args.phase == "a" else phase_b)(args)


if __name__ == "__main__":
    main()
