#!/usr/bin/env bash
# Installs ONNX Runtime's CPU library, as npm's onnxruntime-node package
# ships it, into ~/.cache/resnetc/onnxruntime (or $1), for the ONNX round-trip
# test (ctest -R interchange-onnx-torchvision), which uses it when present.
# Optional: without it that test checks exported graphs with onnx.checker and
# torch only. Needs node and npm; --ignore-scripts skips the package's
# install script, which downloads GPU libraries the test does not use.
set -euo pipefail
dir=${1:-$HOME/.cache/resnetc/onnxruntime}
if [ -d "$dir/node_modules/onnxruntime-node" ]; then
  echo "setup-onnxruntime: present in $dir"
  exit 0
fi
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts onnxruntime-node
node -e "require('$dir/node_modules/onnxruntime-node')" \
  && echo "setup-onnxruntime: onnxruntime-node installed in $dir"
