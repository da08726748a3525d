#!/bin/sh
# Regenerates kinds.yaml: kubectl's own YAML (`kubectl patch --local -p '{}' --type merge -o yaml`,
# a no-op patch, so the object is printed as read) of every object of
# crates/k8s/tests/data/typed/kinds.json, one document each, separated by "---".
set -e
cd "$(dirname "$0")"
src=../../../../k8s/tests/data/typed/kinds.json
n=$(python3 -c "import json,sys; print(len(json.load(open('$src'))))")
tmp=$(mktemp -d)
: > kinds.yaml
i=0
while [ $i -lt $n ]; do
  python3 -c "import json,sys; print(json.dumps(json.load(open('$src'))[$i]))" > "$tmp/o.json"
  [ $i -gt 0 ] && echo "---" >> kinds.yaml
  kubectl patch --local -f "$tmp/o.json" -p '{}' --type merge -o yaml >> kinds.yaml
  i=$((i + 1))
done
rm -r "$tmp"
