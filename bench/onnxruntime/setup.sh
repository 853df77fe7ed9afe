#!/usr/bin/env bash
# Installs npm's onnxruntime-node next to bench/onnxruntime/infer.js (into
# bench/onnxruntime/node/, ignored by git). The CPU library ships in the
# package; --ignore-scripts skips its install script, which would fetch the
# CUDA provider from nuget.org (only the npm registry is needed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=${ONNXRUNTIME_NODE_VERSION:-1.30.0}
command -v npm >/dev/null || { echo "setup.sh: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
if [[ -f $here/node/node_modules/onnxruntime-node/package.json ]] &&
   grep -q "\"version\": \"$version\"" "$here/node/node_modules/onnxruntime-node/package.json"; then
  echo "onnxruntime-node $version is installed in $here/node"
  exit 0
fi
mkdir -p "$here/node"
npm install --prefix "$here/node" --ignore-scripts --no-audit --no-fund "onnxruntime-node@$version"
echo "onnxruntime-node $version installed in $here/node"
