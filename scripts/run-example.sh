#!/usr/bin/env bash
# The README's main job: set up, build and install resnetc, then use it as a
# user would.
#   ./scripts/run-example.sh              train ResNet-20 on Fashion-MNIST for two
#                                         epochs (a few minutes on 2 cores), then
#                                         classify 200 test images, written as PGM
#                                         files, through the generated library
#                                         (examples/classify: find_package(resnetc)
#                                         + resnetc_add_model), with class names
#                                         and the accuracy
#   ./scripts/run-example.sh resnet50     compile another model of examples/models
#                                         and run it on He-initialised weights
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-resnet20_fmnist}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build_dir=${RESNETC_BUILD_DIR:-$root/build}
prefix=$build_dir/install
cmake --install "$build_dir" --prefix "$prefix" > /dev/null
cmake -S "$root/examples/classify" -B "$build_dir/classify-$model" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DMODEL="$model" > /dev/null
cmake --build "$build_dir/classify-$model"
classify=$build_dir/classify-$model/classify

if [ "$model" != resnet20_fmnist ]; then
  # He-initialised weights (untrained): the classes are arbitrary, the run is real.
  "$classify" "$build_dir/classify-$model/resnetc/$model/$model.rnw"
  exit 0
fi

# Train with the installed resnetc; the weights it writes record the input
# normalisation and the class names, which the generated library applies.
data=/usr/share/datasets/fashion-mnist
run=$build_dir/runs/resnet20_fmnist
rm -rf "$run"
"$prefix/bin/resnetc" train "$root/examples/models/resnet20_fmnist.rn" --data "fashion-mnist:$data" \
  --epochs 2 --checkpoint-dir "$run" --no-progress
"$prefix/bin/resnetc" info "$run/final.rnw"
images=$build_dir/fashion-mnist-test-images
"$root/examples/fashion-mnist/write-test-images.py" "$data" "$images" 200
"$classify" --top 1 --repeat 1 --labels "$images/labels.txt" "$run/final.rnw" "$images"/*.pgm
