#!/usr/bin/env bash
# Whole-command timings of the MVCC commands on a large snapshot (docs/performance.md,
# section "MVCC: get and hashkv").
#
# Usage: benches/mvcc-commands.sh [SNAPSHOT]   (default: $HOME/.cache/etcdsnap-bench/large-a.db)
# Env:   ETCDSNAP=path/to/etcdsnap (default: target/release/etcdsnap, built if missing)
#        RUNS=5 (hyperfine runs after 2 warm-ups)
#
# Measures, warm (file in the page cache), the median of RUNS runs of
#   etcdsnap get FILE "" --from-key --keys-only --count-only
#   etcdsnap hashkv FILE
#   etcdsnap get FILE "" --from-key --keys-only -w json      (every key listed)
# with hyperfine when installed (else a loop with /usr/bin/time), then the peak heap of each
# (RssAnon polled by benches/peak-rss.sh). Prints a Markdown table.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DB=${1:-$HOME/.cache/etcdsnap-bench/large-a.db}
RUNS=${RUNS:-5}
BIN=${ETCDSNAP:-$ROOT/target/release/etcdsnap}
[[ -f $DB ]] || { echo "no snapshot at $DB" >&2; exit 2; }
if [[ ! -x $BIN ]]; then
  (cd "$ROOT" && cargo build --release -p etcdsnap)
fi

cmds=(
  "get \"\" --from-key --keys-only --count-only|$BIN get $DB '' --from-key --keys-only --count-only"
  "hashkv|$BIN hashkv $DB"
  "get \"\" --from-key --keys-only -w json|$BIN get $DB '' --from-key --keys-only -w json"
)

echo "snapshot: $DB ($(stat -c %s "$DB") bytes)"
"$BIN" status "$DB" -w table
echo
echo "| command | median (s) | min (s) | max (s) | peak RssAnon | VmHWM |"
echo "|---|---|---|---|---|---|"
for c in "${cmds[@]}"; do
  name=${c%%|*}
  cmd=${c#*|}
  if command -v hyperfine >/dev/null; then
    json=$(mktemp)
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json" --output=null "$cmd" >/dev/null 2>&1 ||
      hyperfine --warmup 2 --runs "$RUNS" --export-json "$json" --output=null "$cmd" >/dev/null
    read -r med min max < <(python3 -c "import json,sys;r=json.load(open('$json'))['results'][0];print('%.3f %.3f %.3f'%(r['median'],r['min'],r['max']))")
    rm -f "$json"
  else
    ts=()
    eval "$cmd" >/dev/null; eval "$cmd" >/dev/null
    for _ in $(seq "$RUNS"); do
      t=$( { /usr/bin/time -f %e bash -c "$cmd >/dev/null"; } 2>&1 )
      ts+=("$t")
    done
    read -r med min max < <(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}')
  fi
  mem=$(eval "\"$HERE/peak-rss.sh\" $cmd" 2>&1 >/dev/null | tail -1)
  anon=$(sed -n 's/.*peak RssAnon \([0-9]*\) kB.*/\1/p' <<<"$mem")
  hwm=$(sed -n 's/.*VmHWM \([0-9]*\) kB.*/\1/p' <<<"$mem")
  printf '| `etcdsnap %s` | %s | %s | %s | %s MiB | %s MiB |\n' "$name" "$med" "$min" "$max" \
    "$(echo "scale=1; $anon/1024" | bc)" "$(echo "scale=1; $hwm/1024" | bc)"
done
