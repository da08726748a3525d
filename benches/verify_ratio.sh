#!/usr/bin/env bash
# verify's cost against the hashing floor (issue 17: within 1.5x of `openssl dgst -sha256`),
# on a generated etcd-like snapshot of a few hundred MB (benches/gen_synthetic.py, made once).
# One warm-up run each (the file in the page cache), then RUNS (default 7) runs of each,
# interleaved; prints the median and the minimum of each and their ratios (on a busy machine the
# minimum is the run least disturbed by others). Needs a release build: cargo build --release -p etcdsnap
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
RUNS=${RUNS:-7}
once() { s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
"$BIN" verify "$FILE" > /dev/null || { echo "verify does not pass on $FILE" >&2; exit 1; }
openssl dgst -sha256 "$FILE" > /dev/null
: > /tmp/verify_ratio.$$.ssl
: > /tmp/verify_ratio.$$.ver
for _ in $(seq "$RUNS"); do
  once openssl dgst -sha256 "$FILE" >> /tmp/verify_ratio.$$.ssl
  once "$BIN" verify "$FILE" >> /tmp/verify_ratio.$$.ver
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
min() { sort -n "$1" | head -1; }
sm=$(med /tmp/verify_ratio.$$.ssl); vm=$(med /tmp/verify_ratio.$$.ver)
sn=$(min /tmp/verify_ratio.$$.ssl); vn=$(min /tmp/verify_ratio.$$.ver)
rm -f /tmp/verify_ratio.$$.ssl /tmp/verify_ratio.$$.ver
echo "file: $FILE ($(stat -c %s "$FILE") bytes), $RUNS runs each, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '                      median     min\n'
printf 'openssl dgst -sha256  %.3f s  %.3f s\n' "$sm" "$sn"
printf 'etcdsnap verify       %.3f s  %.3f s\n' "$vm" "$vn"
printf 'verify / openssl      %.2f     %.2f   (goal <= 1.5)\n' "$(echo "$vm / $sm" | bc -l)" "$(echo "$vn / $sn" | bc -l)"
