#!/usr/bin/env bash
# ctest interchange-onnx-torchvision: the ONNX round trip of onnx_roundtrip.py
# (torchvision resnet18/resnet50 and an option-A CIFAR ResNet-20 through
# torch.onnx.export, resnetc import/compile/export). Exits 77 (skipped) when
# no Python has torch, torchvision and onnx (Debian: python3-torch,
# python3-torchvision, python3-onnx).
#   onnx-torchvision.sh RESNETC [KERNEL_CACHE_DIR]
set -euo pipefail
resnetc=$1 cache=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

python=""
for candidate in "${RESNETC_PYTHON:-}" /usr/bin/python3 python3; do
  if [ -n "$candidate" ] && "$candidate" -c 'import torch, torchvision, onnx' 2> /dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "skipped: no python3 with torch, torchvision and onnx (apt install python3-torch" \
       "python3-torchvision python3-onnx)"
  exit 77
fi

# ONNX Runtime's CPU library from npm's onnxruntime-node
# (scripts/setup-onnxruntime.sh); without it the exported graphs are checked
# with onnx.checker and torch's ops.
ort=${RESNETC_ONNXRUNTIME_NODE:-$HOME/.cache/resnetc/onnxruntime/node_modules/onnxruntime-node}
if ! { command -v node > /dev/null && [ -d "$ort" ]; }; then
  ort=""
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# torch's ONNX exporter warns at length about things that do not matter here.
OMP_NUM_THREADS=2 PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1 "$python" "$here/onnx_roundtrip.py" "$resnetc" "$work" \
  "$cache" "$ort"
