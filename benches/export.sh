#!/usr/bin/env bash
# `etcdsnap export` against the floor: reading the snapshot once (dd bs=4M), in the same run.
#   export -> Parquet (values, the default), --no-values, --history --no-values, and JSON Lines
# Runs alternate between the commands (benches/compare.py), after one warm-up each, so the
# page cache is warm and shared fairly; median wall time, the ratio to dd ("vs first") and the
# peak RssAnon (heap, not the mapped file) are printed as Markdown. Outputs go to a temporary
# directory beside nothing else and are removed at the end.
#
# Usage: benches/export.sh [SNAPSHOT]   (default: $HOME/.cache/etcdsnap-bench/large-a.db, made
#        by benches/data/make-large-snapshot.sh; LARGE_KEYS=60000 makes a ~620 MB one in ~4 min)
# Env: RUNS (default 5), OUT (directory for the outputs; default a fresh one under /tmp)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
A=${1:-$HOME/.cache/etcdsnap-bench/large-a.db}
RUNS=${RUNS:-5}
[[ -f $A ]] || { echo "no snapshot $A (benches/data/make-large-snapshot.sh)" >&2; exit 2; }
BIN=$ROOT/target/release/etcdsnap
(cd "$ROOT" && cargo build --release -q -p etcdsnap)
OUT=${OUT:-$(mktemp -d /tmp/etcdsnap-export-bench.XXXXXX)}
trap 'rm -rf "$OUT"' EXIT

echo "## $(basename "$A"): $(stat -c %s "$A") bytes, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" export "$A" -o "$OUT/check.parquet" --force
"$BIN" export "$A" -o "$OUT/check.parquet" --force --no-values
"$BIN" export "$A" -o "$OUT/check.parquet" --force --history --no-values
echo
# Each timed export writes a new file (the shell's PID names it; `exec` keeps the PID, so the
# peak heap is etcdsnap's): replacing an existing file is another cost, ext4's. With
# auto_da_alloc (its default) a rename over an existing file first writes the new file's data
# to disk, which added 0.3-1.3 s to a 555 MB Parquet file here; the last row shows it.
NEW='exec "$@" -o "$0.$$.${0##*.}"' # sh -c "$NEW" OUT/name.ext cmd... -> OUT/name.ext.PID.ext
python3 "$HERE/compare.py" --runs "$RUNS" \
  --label "dd if=$(basename "$A") bs=4M (read once)" -- dd if="$A" of=/dev/null bs=4M ::: \
  --label "export -o a.parquet" -- sh -c "$NEW" "$OUT/a.parquet" "$BIN" export "$A" ::: \
  --label "export -o b.parquet --no-values" -- sh -c "$NEW" "$OUT/b.parquet" "$BIN" export "$A" --no-values ::: \
  --label "export -o c.parquet --history --no-values" -- sh -c "$NEW" "$OUT/c.parquet" "$BIN" export "$A" --history --no-values ::: \
  --label "export -o d.jsonl" -- sh -c "$NEW" "$OUT/d.jsonl" "$BIN" export "$A" ::: \
  --label "export -o a.parquet --force (over an existing file)" -- "$BIN" export "$A" -o "$OUT/a.parquet" --force
for n in a.parquet b.parquet c.parquet d.jsonl; do
  f=$(ls "$OUT/$n".* 2>/dev/null | head -1)
  [[ -n $f ]] && echo "  $(stat -c %s "$f") bytes  $n"
done
rm -f "$OUT"/*[0-9].parquet "$OUT"/*[0-9].jsonl

# CPU seconds (user + sys, median of RUNS): on a shared machine wall time mostly measures the
# other processes; CPU time says what each command costs whatever the load.
echo
echo "| command | median CPU s (user+sys) | vs dd |"
echo "|---|---|---|"
cpu() { # label cmd...
  local label=$1; shift
  local t=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%U %S' -o "$OUT/time" "$@" >/dev/null 2>&1
    t+=("$(tail -1 "$OUT/time" | awk '{print $1 + $2}')")
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v l="$label" -v n="$RUNS" '{a[NR]=$1} END {print l, a[int((n+1)/2)]}'
}
{
  cpu dd dd if="$A" of=/dev/null bs=4M
  cpu "export -o a.parquet" "$BIN" export "$A" -o "$OUT/a.parquet" --force
  cpu "export --no-values" "$BIN" export "$A" -o "$OUT/b.parquet" --force --no-values
  cpu "export --history --no-values" "$BIN" export "$A" -o "$OUT/c.parquet" --force --history --no-values
  cpu "export -o d.jsonl" "$BIN" export "$A" -o "$OUT/d.jsonl" --force
} | awk '{v=$NF; $NF=""; if (NR==1) base=v; printf "| %s| %.2f | %.1fx |\n", $0, v, v/base}'
