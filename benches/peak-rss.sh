#!/usr/bin/env bash
# Runs a command and reports its peak anonymous memory (heap and stacks, not the mapped file)
# and its peak resident set, by polling /proc/PID/status every 2 ms.
#
# Usage: benches/peak-rss.sh CMD [ARGS...]
# Prints on stderr: `peak RssAnon <KiB> kB, VmHWM <KiB> kB (RSS incl. mapped file pages), <s> s`
# The command's stdout goes to /dev/null. RssAnon is what the program allocated; VmHWM also
# counts the pages of the mmapped snapshot it touched, which belong to the page cache.
set -euo pipefail
start=$(date +%s.%N)
"$@" >/dev/null &
pid=$!
peak_anon=0
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  if s=$(cat "/proc/$pid/status" 2>/dev/null); then
    a=$(awk '/^RssAnon:/ {print $2}' <<<"$s")
    h=$(awk '/^VmHWM:/ {print $2}' <<<"$s")
    [[ -n $a && $a -gt $peak_anon ]] && peak_anon=$a
    [[ -n $h && $h -gt $hwm ]] && hwm=$h
  fi
  sleep 0.002
done
wait "$pid"
end=$(date +%s.%N)
printf 'peak RssAnon %s kB, VmHWM %s kB (RSS incl. mapped file pages), %.3f s\n' \
  "$peak_anon" "$hwm" "$(echo "$end - $start" | bc)" >&2
