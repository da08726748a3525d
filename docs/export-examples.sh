#!/usr/bin/env bash
# Builds the example datasets of docs/export.md from the shipped fixtures and answers its five
# questions with DuckDB (and, when pyspark and Java are there, the same with Spark). The
# outputs in docs/export.md are this script's.
#
# Usage: docs/export-examples.sh PYTHON [WORKDIR]
#   PYTHON: a Python with `duckdb` (e.g. the venv .ci/export-duckdb.sh makes: target/duckdb-venv/bin/python)
#   WORKDIR: where the snapshots are unpacked and the datasets written (default: a new temp dir)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${1:?usage: docs/export-examples.sh PYTHON [WORKDIR]}
W=${2:-$(mktemp -d /tmp/etcdsnap-export-examples.XXXXXX)}
BIN=${ETCDSNAP_BIN:-$ROOT/target/release/etcdsnap}
[[ -x $BIN ]] || (cd "$ROOT" && cargo build --release -q -p etcdsnap)
mkdir -p "$W/snapshots"
tar --zstd -xf "$ROOT/fixtures/corpus/dbs.tar.zst" -C "$W/snapshots"
cd "$W"
rm -rf ds hist
set -x
"$BIN" export snapshots/h1.db     --dataset ds --cluster h1
"$BIN" export snapshots/h2a.db    --dataset ds --cluster h2
"$BIN" export snapshots/h2b.db    --dataset ds --cluster h2
"$BIN" export snapshots/h5-k8s.db --dataset ds --cluster k8s
"$BIN" export snapshots/h1.db     --dataset hist --cluster h1  --history --no-values
"$BIN" export snapshots/h5-k8s.db --dataset hist --cluster k8s --history --no-values
{ "$BIN" diff snapshots/h2a.db snapshots/h2b.db --summary || true; } | tail -n 14  # exit 1: differences
set +x
find ds hist -name '*.parquet' | sort
"$PY" "$ROOT/docs/export-examples.py" duckdb
if "$PY" -c 'import pyspark' 2>/dev/null && command -v java >/dev/null; then
  "$PY" "$ROOT/docs/export-examples.py" spark
else
  echo "pyspark or java not available: Spark examples skipped"
fi
