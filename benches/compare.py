#!/usr/bin/env python3
"""Whole-command timing: runs commands alternately, reports median wall time and peak heap.

Usage: compare.py --runs 7 --label etcdsnap -- CMD... ::: --label etcdutl -- CMD...

Commands run in turn (A, B, A, B, ...) after one warm-up each, so the page cache and the
machine's state are shared fairly. Memory: the peak of RssAnon (anonymous memory: heap and
stacks) sampled from /proc/PID/status every 2 ms; mapped file pages are not counted, since a
reader that maps the file would otherwise be charged for the page cache. VmHWM (which counts
file pages) is shown too, for completeness. Output: a Markdown table on stdout.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_anon = 0
    peak_hwm = 0
    status = f"/proc/{p.pid}/status"
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak_anon = max(peak_anon, int(line.split()[1]))
                    elif line.startswith("VmHWM:"):
                        peak_hwm = max(peak_hwm, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    return wall, p.returncode, peak_anon, peak_hwm


def main():
    argv = sys.argv[1:]
    runs = 7
    if argv[:1] == ["--runs"]:
        runs = int(argv[1])
        argv = argv[2:]
    groups = []
    cur = []
    for a in argv + [":::"]:
        if a == ":::":
            if cur:
                groups.append(cur)
            cur = []
        else:
            cur.append(a)
    specs = []
    for g in groups:
        if g[0] != "--label" or g[2] != "--":
            sys.exit("each group: --label NAME -- CMD...")
        specs.append((g[1], g[3:]))
    results = {label: [] for label, _ in specs}
    for label, cmd in specs:  # warm-up
        run_once(cmd)
    for _ in range(runs):
        for label, cmd in specs:
            results[label].append(run_once(cmd))
    base = None
    print(f"| command | median s | min s | exit | peak RssAnon MiB | peak VmHWM MiB | vs first |")
    print("|---|---|---|---|---|---|---|")
    for label, cmd in specs:
        r = results[label]
        med = statistics.median(x[0] for x in r)
        base = base or med
        print(
            f"| {label} | {med:.3f} | {min(x[0] for x in r):.3f} | {r[-1][1]} | "
            f"{max(x[2] for x in r) / 1024:.1f} | {max(x[3] for x in r) / 1024:.1f} | {med / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
