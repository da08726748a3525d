#!/usr/bin/env bash
# `etcdsnap report` against `etcdsnap stats` on the same large snapshot (issue 16: the report
# within 2x of stats), with the floors of what the report does beyond stats: reading the file
# once (dd bs=4M) and hashing it (openssl dgst -sha256, the trailer check). Runs alternate
# (benches/compare.py), after one warm-up each; medians and peak RssAnon as Markdown.
#
# Usage: benches/report-vs-stats.sh [DIR]   (default: $HOME/.cache/etcdsnap-bench, made by
#        benches/data/make-large-snapshot.sh; LARGE_KEYS=40000 makes a ~420 MB pair)
#        Env: RUNS (default 5)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIR=${1:-$HOME/.cache/etcdsnap-bench}
RUNS=${RUNS:-5}
A=$DIR/large-a.db
B=$DIR/large-b.db
[[ -f $A ]] || { echo "no large snapshot in $DIR (benches/data/make-large-snapshot.sh)" >&2; exit 2; }
BIN=$ROOT/target/release/etcdsnap
(cd "$ROOT" && cargo build --release -q -p etcdsnap)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "file: $A ($(stat -c %s "$A") bytes)"
args=(--label "etcdsnap stats -w json" -- "$BIN" stats "$A" -w json :::
      --label "etcdsnap report" -- "$BIN" report "$A" -o "$OUT/a.html" --force :::
      --label "etcdsnap report --skip-hash" -- "$BIN" report "$A" --skip-hash -o "$OUT/s.html" --force :::
      --label "etcdsnap verify -w json" -- "$BIN" verify "$A" -w json :::
      --label "openssl dgst -sha256 (floor of the trailer check)" -- openssl dgst -sha256 "$A" :::
      --label "dd bs=4M (read once)" -- dd if="$A" of=/dev/null bs=4M)
if [[ -f $B ]]; then
  args+=(::: --label "etcdsnap report --compare" -- "$BIN" report "$B" --compare "$A" -o "$OUT/b.html" --force)
fi
python3 "$HERE/compare.py" --runs "$RUNS" "${args[@]}"
