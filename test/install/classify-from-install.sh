#!/usr/bin/env bash
# Installs resnetc into a temporary prefix, builds examples/classify as a
# separate CMake project against it (find_package + resnetc_add_model), and
# runs it: the way users consume resnetc.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
cmake -S "$source_dir/examples/classify" -B "$work/classify" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DMODEL=resnet20 -DBATCH=2 > /dev/null
cmake --build "$work/classify" > /dev/null
"$work/classify/classify" --repeat 3 "$work/classify/resnetc/resnet20/resnet20.rnw" | tee "$work/out.txt"
grep -q "class" "$work/out.txt"
grep -q "resnet20, batch 2: median" "$work/out.txt"
# A weights file for another model is refused with a clear message.
"$build_dir/bin/resnetc" init "$source_dir/examples/models/resnet32.rn" -o "$work/resnet32.rnw"
if "$work/classify/classify" "$work/resnet32.rnw" 2> "$work/err.txt"; then
  echo "classify accepted another model's weights" >&2
  exit 1
fi
grep -q "the weights are for model 'resnet32', not 'resnet20'" "$work/err.txt"
echo "install + classify: ok"
