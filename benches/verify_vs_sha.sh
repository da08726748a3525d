#!/usr/bin/env bash
# Times `etcdsnap verify FILE` against `sha256sum FILE` and `openssl dgst -sha256 FILE`:
# one warm-up run each (the file in the page cache), then 5 runs, median wall time; and the
# peak RssAnon of verify (anonymous memory: the mapped file itself is page cache, not ours).
# usage: benches/verify_vs_sha.sh FILE [ETCDSNAP=target/release/etcdsnap]
set -eu
FILE=$1
BIN=${2:-target/release/etcdsnap}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run5() {
  "$@" > /dev/null 2>&1 || true
  for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}
echo "file: $FILE ($(stat -c %s "$FILE") bytes)"
printf 'sha256sum            %s s\n' "$(run5 sha256sum "$FILE")"
printf 'openssl dgst -sha256 %s s\n' "$(run5 openssl dgst -sha256 "$FILE")"
printf 'etcdsnap verify      %s s\n' "$(run5 "$BIN" verify "$FILE")"
# Peak RssAnon, sampled every 5 ms.
"$BIN" verify "$FILE" > /dev/null & pid=$!
peak=0
while kill -0 $pid 2> /dev/null; do
  v=$(awk '/RssAnon/ {print $2}' /proc/$pid/status 2> /dev/null || echo 0)
  [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
  sleep 0.005
done
wait $pid || true
echo "etcdsnap verify peak RssAnon: ${peak} kB"
