#!/usr/bin/env bash
# verify's cost against the hashing floor (issue 17: within 1.5x of `openssl dgst -sha256`),
# on a generated etcd-like snapshot of a few hundred MB (benches/gen_synthetic.py, made once).
# One warm-up run each (the file in the page cache), then the median of 5 runs; prints the
# ratio. Needs a release build: cargo build --release -p etcdsnap
# usage: benches/verify_ratio.sh [FILE=/tmp/etcdsnap-bench/synth-300.db] [SIZE_MB=300]
set -eu
cd "$(dirname "$0")/.."
FILE=${1:-/tmp/etcdsnap-bench/synth-300.db}
SIZE=${2:-300}
BIN=target/release/etcdsnap
[ -x "$BIN" ] || { echo "build first: cargo build --release -p etcdsnap" >&2; exit 2; }
if [ ! -f "$FILE" ]; then
  mkdir -p "$(dirname "$FILE")"
  python3 benches/gen_synthetic.py "$FILE" "$SIZE" > /dev/null
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time5() {
  "$@" > /dev/null 2>&1 || true
  for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}
"$BIN" verify "$FILE" > /dev/null || { echo "verify does not pass on $FILE" >&2; exit 1; }
ssl=$(time5 openssl dgst -sha256 "$FILE")
ver=$(time5 "$BIN" verify "$FILE")
echo "file: $FILE ($(stat -c %s "$FILE") bytes), load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'openssl dgst -sha256  %s s\n' "$ssl"
printf 'etcdsnap verify       %s s\n' "$ver"
printf 'verify / openssl      %.2f (goal <= 1.5)\n' "$(echo "$ver / $ssl" | bc -l)"
