#!/usr/bin/env bash
# The commands that write a snapshot, against the floor of writing a file: `cp` of the same
# input (issue 13: compact and redact within 10x of copying the file; memory bounded).
#
#   cp IN OUT                      the floor (read + write the same bytes)
#   etcdsnap compact IN --rev R    R = the middle of the history: about half the revisions go
#   etcdsnap redact IN             every Secret payload rewritten (a quarter of the keys)
#   etcdsnap salvage IN            an intact input: the whole tree read and rewritten
#
# Input: a generated snapshot of SIZE_MB (default 300) with Kubernetes envelopes
# (benches/gen_synthetic.py: 40,000 keys, ~4.5 revisions each), cached in DIR. Runs alternate (benches/compare.py), after a
# warm-up each; medians, ratios to cp and peak RssAnon (heap, not the page cache) are printed.
#
# Usage: benches/writers.sh [DIR]   Env: SIZE_MB (300), RUNS (3)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIR=${1:-${ETCDSNAP_BENCH_DIR:-$HOME/.cache/etcdsnap-bench}}
SIZE_MB=${SIZE_MB:-300}
RUNS=${RUNS:-3}
mkdir -p "$DIR"
IN=$DIR/writers-$SIZE_MB-40k.db
if [[ ! -f $IN ]]; then
  python3 "$HERE/gen_synthetic.py" "$IN.tmp" "$SIZE_MB" 40000 1500 k8s >/dev/null
  mv "$IN.tmp" "$IN"
fi
BIN=$ROOT/target/release/etcdsnap
(cd "$ROOT" && cargo build --release -q -p etcdsnap)
OUT=$DIR/writers-out
mkdir -p "$OUT"
HEAD=$("$BIN" status "$IN" -w json | python3 -c 'import json,sys;print(json.load(sys.stdin)["revision"])')
R=$((HEAD / 2))
echo "input: $IN ($(stat -c %s "$IN") bytes, revisions 2..$HEAD), compact at $R"
"$BIN" compact "$IN" --rev "$R" -o "$OUT/c.db" --force
"$BIN" redact "$IN" -o "$OUT/r.db" --force
echo
python3 "$HERE/compare.py" --runs "$RUNS" \
  --label "cp (floor)" -- cp "$IN" "$OUT/cp.db" ::: \
  --label "etcdsnap compact --rev $R" -- "$BIN" compact "$IN" --rev "$R" -o "$OUT/c.db" --force ::: \
  --label "etcdsnap redact" -- "$BIN" redact "$IN" -o "$OUT/r.db" --force ::: \
  --label "etcdsnap salvage (intact input)" -- "$BIN" salvage "$IN" -o "$OUT/s.db" --force
rm -rf "$OUT"
