#!/usr/bin/env bash
# Speed regression guard (issue 15): a release build, then benches/guard.py on a generated
# store of many small revisions (78 MiB, 234k revisions, compacted half way). Each command's CPU
# time is compared with `dd bs=4M` (openssl dgst -sha256 for verify) measured in the same run;
# the step fails when a ratio passes its bound (benches/guard.py's BOUNDS, calibrated in
# docs/performance.md). About 45 s once the release binary is built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
cargo build --release --locked --bin etcdsnap
python3 benches/guard.py --bin target/release/etcdsnap --runs 3
