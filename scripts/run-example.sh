#!/usr/bin/env bash
# The README's main job: set up, build, then run resnetc on an example model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build_dir=${RESNETC_BUILD_DIR:-$root/build}
model=${1:-$root/examples/models/resnet50.rn}
"$build_dir/bin/resnetc" stats "$model"
mkdir -p "$build_dir/out"
name=$(basename "$model" .rn)
"$build_dir/bin/resnetc" init "$model" --seed 7 -o "$build_dir/out/$name.rnw"
echo "wrote $build_dir/out/$name.rnw"
