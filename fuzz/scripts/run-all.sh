#!/usr/bin/env bash
# Runs the fuzz targets one after the other, one process at a time (the machine has 2 cores,
# shared). Usage: fuzz/scripts/run-all.sh "verify:600 walk:360 status:360 open:240 kv:240"
# Build first: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build)
set -u
cd "$(dirname "$0")/.."
BIN=target/x86_64-unknown-linux-gnu/release
LOG=${LOG:-/tmp/etcdsnap-fuzz}
mkdir -p "$LOG"
for spec in ${1:-verify:600 walk:360 status:360 open:240 kv:240}; do
  t=${spec%%:*}; secs=${spec##*:}
  mkdir -p "corpus/$t" "artifacts/$t" "$LOG/$t"
  echo "== $t for ${secs}s, $(date -u +%FT%TZ)" >> "$LOG/summary.txt"
  ( cd "$LOG/$t" && "$OLDPWD/$BIN/$t" "$OLDPWD/corpus/$t" \
      -artifact_prefix="$OLDPWD/artifacts/$t/" -max_total_time="$secs" -timeout=10 \
      -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 -jobs=1 -workers=1 \
      > "$LOG/$t/stdout.txt" 2>&1 )
  echo "   exit $? $(date -u +%FT%TZ)" >> "$LOG/summary.txt"
  tail -n 25 "$LOG/$t/fuzz-0.log" >> "$LOG/summary.txt" 2>/dev/null
done
echo "== all done $(date -u +%FT%TZ)" >> "$LOG/summary.txt"
