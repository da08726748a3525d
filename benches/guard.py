#!/usr/bin/env python3
"""Speed regression guard: each command's time as a ratio of the floor measured in the same run.

Usage: guard.py --bin target/release/etcdsnap [--db FILE] [--runs 3] [--json OUT]
                [--simulate-regression NAME]

Without --db it writes a store of many small revisions with gen_synthetic.py (beside this
file, `k8s` mode: a quarter of the objects are Secrets, the rest ConfigMaps): 96 MiB, 60,000
keys, 300-byte values, about 230,000 revisions, the Kubernetes shape that costs us per
revision rather than per byte; then compacts it half way with `etcdsnap compact`, so that
hashkv --rev needs etcd's Keep(R) as on a real store. Then, alternating the commands run after
run (so the page cache and the machine's load are shared fairly), it takes the best wall time
and the best CPU time (user + system, all threads) of each command and of its floor:

- scans are compared with `dd bs=4M` reading the file once (to /dev/null);
- hashing commands (verify) with `openssl dgst -sha256` over the same file;

each floor timed over REPEAT runs in a row and divided (a single dd is a few ms of CPU).

The store is fixed, so a ratio is the command's time per revision against the floor's.
The gate is the ratio of CPU times: on a shared CI machine the wall time of a 30 ms floor
and of a 2-thread command move with the other jobs (a load average of 13 on 2 cores made
the wall ratios swing 2-3x), the CPU they use much less. Wall ratios are printed beside
them. A command fails the guard when its CPU ratio is above its bound (the BOUNDS table, calibrated in
docs/performance.md: the worst ratio seen on this 2-core machine, idle and under a load
average of 12-15 from other builds, plus headroom, and below twice the idle ratio, so that a
command twice as slow fails on an idle machine). The bounds are ratios, never absolute times,
so a slower or faster machine moves the floor and the command together. Exit 0 when every
ratio is within its bound, 1 when any is not, 2 when something could not run. The table goes
to stdout.

A command found over its bound gets RETRY_RUNS more runs, alternating with its floor, before
it fails: a spike of a busy machine is dropped, a real regression stays over.

--simulate-regression NAME runs command NAME twice per timing (twice the work, as a 2x
regression would), to show that the guard catches it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Extra alternating runs given to a command found over its bound before it fails the guard.
RETRY_RUNS = 5

# name -> (floor, bound, argv after the binary; {db}, {key} and {mid} (a revision half way
# between the compaction and the newest) are filled in)
BOUNDS = {
    "status": ("dd", 5.2, ["status", "{db}", "-w", "json"]),
    "get --count-only": ("dd", 22.0, ["get", "{db}", "", "--from-key", "--count-only"]),
    "get --keys-only": ("dd", 24.0, ["get", "{db}", "", "--from-key", "--keys-only"]),
    "get -w json": ("dd", 31.0, ["get", "{db}", "", "--from-key", "-w", "json"]),
    "get one key": ("dd", 5.1, ["get", "{db}", "{key}"]),
    "history one key": ("dd", 5.1, ["history", "{db}", "{key}"]),
    "hashkv": ("dd", 22.0, ["hashkv", "{db}"]),
    "hashkv --rev": ("dd", 14.0, ["hashkv", "{db}", "--rev", "{mid}"]),
    "info": ("dd", 22.0, ["info", "{db}", "-w", "json"]),
    "stats": ("dd", 32.0, ["stats", "{db}", "-w", "json"]),
    "audit --history": ("dd", 27.0, ["audit", "{db}", "--history"]),
    "diff": ("dd", 37.0, ["diff", "{db}", "{db}", "--rev-a", "{mid}"]),
    "verify": ("sha256", 3.4, ["verify", "{db}"]),
}

# The floors, each run REPEAT times in one timing (the time divided by REPEAT): `dd` over a
# 78 MiB file in the page cache takes about 4 ms of CPU, too little to divide by on its own.
REPEAT = 8
FLOORS = {
    "dd": ["sh", "-c", f"for i in $(seq {REPEAT}); do dd if={{db}} of=/dev/null bs=4M 2>/dev/null; done"],
    "sha256": ["sh", "-c", f"for i in $(seq {REPEAT}); do openssl dgst -sha256 {{db}} >/dev/null; done"],
}


def fill(argv, **kw):
    return [a.format(**kw) if "{" in a else a for a in argv]


def timed(argv):
    """(wall seconds, CPU seconds: user + system of the process and its threads)."""
    if isinstance(argv, tuple):  # ("twice", argv): a simulated 2x regression
        w1, c1 = timed(argv[1])
        w2, c2 = timed(argv[1])
        return w1 + w2, c1 + c2
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {err.decode(errors='replace').strip()}")
    return wall, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--db")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--simulate-regression", metavar="NAME", help="run command NAME twice per timing")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    tmp = None
    db = a.db
    if db is None:
        tmp = tempfile.mkdtemp(prefix="etcdsnap-guard.")
        db = os.path.join(tmp, "small-revs.db")
        raw = os.path.join(tmp, "small-revs-raw.db")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_synthetic.py"), raw, "96", "60000", "300", "k8s"],
                       check=True, stdout=subprocess.DEVNULL)
        cur = json.loads(subprocess.run([a.bin, "status", raw, "-w", "json"], check=True,
                                        capture_output=True).stdout)["revision"]
        subprocess.run([a.bin, "compact", raw, "--rev", str(cur // 2), "-o", db], check=True,
                       stdout=subprocess.DEVNULL)
        os.unlink(raw)
    size = os.path.getsize(db)
    try:
        first = subprocess.run([a.bin, "get", db, "", "--from-key", "--keys-only", "--limit", "1"],
                               check=True, capture_output=True).stdout.split(b"\n")[0].decode()
        st = json.loads(subprocess.run([a.bin, "status", db, "-w", "json"], check=True,
                                       capture_output=True).stdout)
        revs = st["revision"]
        hk = subprocess.run([a.bin, "hashkv", db, "-w", "json"], check=True, capture_output=True).stdout
        compact = json.loads(hk).get("compact_revision", -1)
        mid = max(compact + 1, (max(compact, 0) + revs) // 2)
        jobs = {f"floor {k}": fill(v, db=db) for k, v in FLOORS.items()}
        for name, (_, _, argv) in BOUNDS.items():
            jobs[name] = [a.bin] + fill(argv, db=db, key=first, mid=mid)
        if a.simulate_regression:
            if a.simulate_regression not in BOUNDS:
                raise RuntimeError(f"no command {a.simulate_regression!r} (one of: {', '.join(BOUNDS)})")
            jobs[a.simulate_regression] = ("twice", jobs[a.simulate_regression])
        best = {k: float("inf") for k in jobs}
        cpu = {k: float("inf") for k in jobs}
        for name, argv in jobs.items():  # warm-up, also checks every command runs
            timed(argv)
        for _ in range(a.runs):
            for name, argv in jobs.items():
                w, c = timed(argv)
                if name.startswith("floor "):
                    w, c = w / REPEAT, c / REPEAT
                best[name] = min(best[name], w)
                cpu[name] = min(cpu[name], c)
        # A command over its bound is measured again, alternating with its floor, before it
        # fails the guard: the minimum over more runs drops a spike of a busy machine, while a
        # real regression stays over (the retry can only lower the ratio, never hide 2x work).
        for name, (floor, bound, _) in BOUNDS.items():
            if cpu[name] / max(cpu[f"floor {floor}"], 1e-6) <= bound:
                continue
            for _ in range(RETRY_RUNS):
                for job in (f"floor {floor}", name):
                    w, c = timed(jobs[job])
                    if job.startswith("floor "):
                        w, c = w / REPEAT, c / REPEAT
                    best[job] = min(best[job], w)
                    cpu[job] = min(cpu[job], c)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print(f"guard: {e}", file=sys.stderr)
        return 2
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"store: {size / 2**20:.0f} MiB, {revs} revisions (compaction {compact}, --rev {mid}); "
          f"best of {a.runs} alternating runs; load average {os.getloadavg()[0]:.2f}")
    print(f"floors: dd {best['floor dd']:.3f} s wall, {cpu['floor dd']:.3f} s CPU; "
          f"openssl sha256 {best['floor sha256']:.3f} s wall, {cpu['floor sha256']:.3f} s CPU")
    print()
    print("| command | best wall s | wall ratio | best CPU s | CPU ratio | bound (CPU) | CPU ns per revision |")
    print("|---|---|---|---|---|---|---|")
    failed = []
    out = {"revisions": revs, "load_average": os.getloadavg()[0],
           "floors": {k: {"wall": best[f"floor {k}"], "cpu": cpu[f"floor {k}"]} for k in FLOORS},
           "commands": {}}
    for name, (floor, bound, _) in BOUNDS.items():
        wall_ratio = best[name] / max(best[f"floor {floor}"], 1e-6)
        ratio = cpu[name] / max(cpu[f"floor {floor}"], 1e-6)
        ok = ratio <= bound
        if not ok:
            failed.append(name)
        print(f"| {name} | {best[name]:.3f} | {wall_ratio:.2f} | {cpu[name]:.3f} | {ratio:.2f} | {bound:.1f} | "
              f"{cpu[name] / max(revs, 1) * 1e9:.0f} |{'' if ok else ' **over**'}")
        out["commands"][name] = {"wall": best[name], "cpu": cpu[name], "floor": floor,
                                 "wall_ratio": wall_ratio, "cpu_ratio": ratio, "bound": bound}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    if failed:
        print(f"\nguard: over the bound: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
