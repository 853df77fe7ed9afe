#!/usr/bin/env bash
# torchvision's resnet18 (random weights and batch-norm statistics, eval mode)
# through safetensors: resnetc import, compile --weights, run the library on
# a random image: the logits within 1e-4 of their range of PyTorch's. Then
# resnetc export, and PyTorch's load_state_dict(strict=True) of the export
# gives the same logits. Also: the exports of resnet34/50/101/152 carry
# exactly the names and shapes of torchvision's state_dicts. The ResNet
# family's grouped and wider bottlenecks (resnext50_32x4d, wide_resnet50_2)
# are checked against PyTorch's logits the same way, and so is resnet50 (v1.5:
# resnet50_v1_5.rn; its 3x3 convs take Winograd F(4x4, 3x3): docs/winograd.md).
#
#   safetensors-torchvision.sh <resnetc> <source dir> [kernel cache]
# Exit code 77 (skipped) without Debian's python3-torch and python3-torchvision.
set -euo pipefail
resnetc=$1
source_dir=$2
cache=${3:-}
here=$source_dir/test/interchange
models=$source_dir/examples/models

python=
# PYTHON, when set, is the only interpreter tried.
for candidate in ${PYTHON:-/usr/bin/python3 python3}; do
  if "$candidate" -c "import torch, torchvision" 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "skipped: no python3 with torch and torchvision (apt-get install python3-torch python3-torchvision)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache_args=()
[ -n "$cache" ] && cache_args=(--cache-dir "$cache")

"$python" "$here/torchvision_safetensors.py" write "$work"
"$resnetc" import "$work/torch.safetensors" --model "$models/resnet18.rn" -o "$work/r18.rnw"
"$resnetc" compile "$models/resnet18.rn" --weights "$work/r18.rnw" -o "$work/lib" --quiet \
  "${cache_args[@]}"
# CXXFLAGS/LDFLAGS: the flags resnetc was built with (a sanitizer build's
# runtime is needed at link time too).
# shellcheck disable=SC2086
${CXX:-c++} -std=c++17 -O1 ${CXXFLAGS:-} -DMODEL=resnet18 -DMODEL_UPPER=RESNET18 -I"$work/lib" \
  "$here/run-logits.cpp" "$work/lib/libresnet18.a" -o "$work/run-logits" ${LDFLAGS:-} -lpthread -ldl
"$work/run-logits" "$work/r18.rnw" "$work/input.raw" "$work/resnetc-logits.raw"
"$python" "$here/torchvision_safetensors.py" compare "$work"

"$resnetc" export "$work/r18.rnw" --model "$models/resnet18.rn" -o "$work/exported.safetensors"
"$python" "$here/torchvision_safetensors.py" reload "$work"

for model in resnet34 resnet50 resnet101 resnet152; do
  "$resnetc" init "$models/$model.rn" -o "$work/$model.rnw"
  "$resnetc" export "$work/$model.rnw" --model "$models/$model.rn" -o "$work/$model.safetensors" > /dev/null
  rm "$work/$model.rnw"
done
"$python" "$here/torchvision_safetensors.py" names "$work" resnet34 resnet50 resnet101 resnet152

for model in resnet50 resnext50_32x4d wide_resnet50_2; do
  source_rn=$models/$model.rn
  # torchvision's resnet50 is v1.5; examples/models/resnet50.rn is the paper's v1.
  [ "$model" = resnet50 ] && source_rn=$here/resnet50_v1_5.rn
  "$python" "$here/torchvision_safetensors.py" write "$work" "$model"
  "$resnetc" import "$work/torch.safetensors" --model "$source_rn" -o "$work/$model.rnw"
  "$resnetc" compile "$source_rn" --weights "$work/$model.rnw" -o "$work/$model" --quiet \
    "${cache_args[@]}"
  upper=$(echo "$model" | tr '[:lower:]' '[:upper:]')
  # shellcheck disable=SC2086
  ${CXX:-c++} -std=c++17 -O1 ${CXXFLAGS:-} -DMODEL="$model" -DMODEL_UPPER="$upper" \
    -I"$work/$model" "$here/run-logits.cpp" "$work/$model/lib$model.a" -o "$work/run-$model" \
    ${LDFLAGS:-} -lpthread -ldl
  "$work/run-$model" "$work/$model.rnw" "$work/input.raw" "$work/resnetc-logits.raw"
  echo -n "$model: "
  "$python" "$here/torchvision_safetensors.py" compare "$work"
  rm -rf "$work/$model" "$work/$model.rnw" "$work/torch.safetensors"
done
echo "safetensors <-> torchvision: ok"
