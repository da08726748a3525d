#!/usr/bin/env python3
"""Seeds the fuzz corpora from the project's real snapshots (crates/bbolt/tests/data):
the files themselves, truncated and bit-flipped copies, a damaged meta; and a few KeyValue
messages for the `kv` target. The large seeds are not committed (the committed corpus is the
minimized one); run this to start a fresh campaign: python3 fuzz/scripts/seed.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
DATA = os.path.join(FUZZ, "..", "crates", "bbolt", "tests", "data")
PS = 4096

random.seed(4)
h5 = open(os.path.join(DATA, "h5-k8s.db"), "rb").read()
h4 = open(os.path.join(DATA, "h4-empty.db"), "rb").read()
seeds = {
    "h4-empty.db": h4,
    "h5-k8s.db": h5,
    "h4-trunc-3p": h4[: 3 * PS],
    "h4-trunc-odd": h4[:10000],
    "h5-trunc-40p": h5[: 40 * PS],
    "h5-trunc-10p": h5[: 10 * PS],
    "h5-notrailer": h5[: 50 * PS],
}
for i in range(6):
    b = bytearray(h5)
    for _ in range(8):
        pos = random.randrange(2 * PS, 50 * PS)
        b[pos] ^= 1 << random.randrange(8)
    seeds[f"h5-flip{i}"] = bytes(b)
b = bytearray(h4)
b[16 + 56] ^= 0xFF  # meta 0's checksum
seeds["h4-badmeta0"] = bytes(b)
for t in ["open", "walk", "status", "verify"]:
    d = os.path.join(FUZZ, "corpus", t)
    os.makedirs(d, exist_ok=True)
    for n, v in seeds.items():
        open(os.path.join(d, n), "wb").write(v)
d = os.path.join(FUZZ, "corpus", "kv")
os.makedirs(d, exist_ok=True)
kv = [
    bytes.fromhex("0A026B311002180420032A027633"),  # put k1=v3 rev 4, created 2, version 3
    bytes.fromhex("0A026B31"),  # a tombstone's value
    b"",
    bytes.fromhex("0A026B3130FFFFFFFFFFFFFFFFFF01"),  # lease -1
]
for i, v in enumerate(kv):
    open(os.path.join(d, f"seed{i}"), "wb").write(v)
