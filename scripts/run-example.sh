#!/usr/bin/env bash
# The README's main job: set up, build and install resnetc, then compile a
# model as a user would (examples/classify, with find_package(resnetc) and
# resnetc_add_model), link the classify app and run it.
#   ./scripts/run-example.sh [model]      (default resnet20; e.g. resnet50)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-resnet20}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build_dir=${RESNETC_BUILD_DIR:-$root/build}
cmake --install "$build_dir" --prefix "$build_dir/install" > /dev/null
cmake -S "$root/examples/classify" -B "$build_dir/classify-$model" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$build_dir/install" -DMODEL="$model" > /dev/null
cmake --build "$build_dir/classify-$model"
# He-initialised weights (untrained): the classes are arbitrary, the run is real.
"$build_dir/classify-$model/classify" "$build_dir/classify-$model/resnetc/$model/$model.rnw"
