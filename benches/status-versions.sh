#!/usr/bin/env bash
# `etcdsnap status` with its integrity check (bbolt's Tx.Check semantics, run before every
# status since issue 11) against the floor: reading the file once (`dd bs=4M`), in the same
# run, as ratios. Also the etcd 3.6 rules (live-key count, every value decoded).
#
# Files: a corpus fixture (h3.db, 3.7 MB, real etcd 3.5.1) and a generated large snapshot
# (benches/gen_synthetic.py, default 512 MB; kept in $DIR between runs).
#
# Usage: benches/status-versions.sh [SIZE_MB]   Env: RUNS (default 7), DIR (default
#        $HOME/.cache/etcdsnap-bench), BASE (an etcdsnap binary built before issue 11, without
#        the check, to show what the check costs in the same run)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SIZE=${1:-512}
RUNS=${RUNS:-7}
DIR=${DIR:-$HOME/.cache/etcdsnap-bench}
mkdir -p "$DIR"
BIG=$DIR/synthetic-$SIZE.db
[[ -s $BIG ]] || python3 "$HERE/gen_synthetic.py" "$BIG" "$SIZE" 40000 1000 >&2
BIN=$ROOT/target/release/etcdsnap
(cd "$ROOT" && cargo build --release -q -p etcdsnap)
SMALL=$(cd "$ROOT" && cargo test -q -p etcdsnap-testkit --test unpack -- --nocapture 2>/dev/null >/dev/null; ls -d "${TMPDIR:-/tmp}"/etcdsnap-corpus-*/ | head -1)h3.db
for F in "$SMALL" "$BIG"; do
  echo "## $(basename "$F") ($(stat -L -c %s "$F") bytes)"
  python3 "$HERE/compare.py" --runs "$RUNS" \
    --label "dd bs=4M (read once)" -- dd if="$F" of=/dev/null bs=4M ::: \
    --label "etcdsnap status -w json (3.5 rules, check included)" -- "$BIN" status "$F" -w json ::: \
    --label "etcdsnap status -w json --etcd-version 3.6" -- "$BIN" status "$F" -w json --etcd-version 3.6 \
    ${BASE:+::: --label "etcdsnap before issue 11 (no check): status -w json" -- "$BASE" status "$F" -w json}
  echo
done
