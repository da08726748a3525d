#!/usr/bin/env bash
# CI step for `etcdsnap export`: DuckDB from PyPI in a virtual environment, then the tests that
# read every exported format back with it (crates/cli/tests/export_duckdb.rs). Those tests skip
# when ETCDSNAP_DUCKDB_PYTHON is unset; here it is set, so a missing or broken engine fails.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${ETCDSNAP_DUCKDB_VENV:-target/duckdb-venv}
DUCKDB_VERSION=2.0.1

echo "== export: DuckDB $DUCKDB_VERSION in $VENV"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian splits venv/ensurepip into python3-venv.
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
fi
ETCDSNAP_DUCKDB_PYTHON="$(cd "$(dirname "$VENV/bin/python")" && pwd)/python"
export ETCDSNAP_DUCKDB_PYTHON
"$ETCDSNAP_DUCKDB_PYTHON" -c 'import duckdb; print("duckdb", duckdb.__version__)'

echo "== export: tests against DuckDB"
cargo test -p etcdsnap --test export_duckdb --locked
