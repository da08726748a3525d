#!/usr/bin/env python3
"""Speed regression guard: each command's time as a ratio of the floor measured in the same run.

Usage: guard.py --bin target/release/etcdsnap [--db FILE] [--runs 5] [--json OUT]

Without --db it writes a store of many small revisions with gen_synthetic.py (beside this
file): 96 MiB, 60,000 keys, 300-byte values, about 230,000 revisions, the Kubernetes shape
that costs us per revision rather than per byte. Then, alternating the commands run after
run (so the page cache and the machine's load are shared fairly), it takes the best wall time
of each command and of its floor:

- scans are compared with `dd bs=4M` reading the file once (to /dev/null);
- hashing commands (verify) with `openssl dgst -sha256` over the same file.

A command fails the guard when its ratio is above its bound (the BOUNDS table: each is the
ratio measured on the idle 2-core machine, see docs/performance.md, with headroom for a
noisy CI machine). The bounds are ratios, never absolute times, so a slower or faster
machine moves the floor and the command together. Exit 0 when every ratio is within its
bound, 1 when any is not, 2 when something could not run. The table goes to stdout.
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

# name -> (floor, bound, argv after the binary; {db} and {key} are filled in)
BOUNDS = {
    "status": ("dd", 4.0, ["status", "{db}", "-w", "json"]),
    "get --count-only": ("dd", 12.0, ["get", "{db}", "", "--from-key", "--count-only"]),
    "get one key": ("dd", 4.0, ["get", "{db}", "{key}"]),
    "history one key": ("dd", 4.0, ["history", "{db}", "{key}"]),
    "hashkv": ("dd", 16.0, ["hashkv", "{db}"]),
    "info": ("dd", 16.0, ["info", "{db}", "-w", "json"]),
    "stats": ("dd", 20.0, ["stats", "{db}", "-w", "json"]),
    "verify": ("sha256", 3.0, ["verify", "{db}"]),
}

FLOORS = {
    "dd": ["dd", "if={db}", "of=/dev/null", "bs=4M"],
    "sha256": ["openssl", "dgst", "-sha256", "{db}"],
}


def fill(argv, **kw):
    return [a.format(**kw) if "{" in a else a for a in argv]


def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--db")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    tmp = None
    db = a.db
    if db is None:
        tmp = tempfile.mkdtemp(prefix="etcdsnap-guard.")
        db = os.path.join(tmp, "small-revs.db")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_synthetic.py"), db, "96", "60000", "300"],
                       check=True, stdout=subprocess.DEVNULL)
    size = os.path.getsize(db)
    try:
        first = subprocess.run([a.bin, "get", db, "", "--from-key", "--keys-only", "--limit", "1"],
                               check=True, capture_output=True).stdout.split(b"\n")[0].decode()
        revs = json.loads(subprocess.run([a.bin, "status", db, "-w", "json"], check=True,
                                         capture_output=True).stdout)["revision"]
        jobs = {f"floor {k}": fill(v, db=db) for k, v in FLOORS.items()}
        for name, (_, _, argv) in BOUNDS.items():
            jobs[name] = [a.bin] + fill(argv, db=db, key=first)
        best = {k: float("inf") for k in jobs}
        for name, argv in jobs.items():  # warm-up, also checks every command runs
            timed(argv)
        for _ in range(a.runs):
            for name, argv in jobs.items():
                best[name] = min(best[name], timed(argv))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print(f"guard: {e}", file=sys.stderr)
        return 2
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"store: {size / 2**20:.0f} MiB, {revs} revisions; best of {a.runs} alternating runs")
    print(f"floors: dd {best['floor dd']:.3f} s, openssl sha256 {best['floor sha256']:.3f} s")
    print()
    print("| command | best s | floor | ratio | bound | ns per revision |")
    print("|---|---|---|---|---|---|")
    failed = []
    out = {"revisions": revs, "floors": {k: best[f"floor {k}"] for k in FLOORS}, "commands": {}}
    for name, (floor, bound, _) in BOUNDS.items():
        ratio = best[name] / max(best[f"floor {floor}"], 1e-6)
        ok = ratio <= bound
        if not ok:
            failed.append(name)
        print(f"| {name} | {best[name]:.3f} | {floor} | {ratio:.2f} | {bound:.1f} | "
              f"{best[name] / max(revs, 1) * 1e9:.0f} |{'' if ok else ' **over**'}")
        out["commands"][name] = {"seconds": best[name], "floor": floor, "ratio": ratio, "bound": bound}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    if failed:
        print(f"\nguard: over the bound: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
