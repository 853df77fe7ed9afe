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
# CXXFLAGS: the flags resnetc was built with (the sanitizer build's runtime
# needs them at link time too); CMake reads them from the environment.
cmake -S "$source_dir/examples/classify" -B "$work/classify" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DMODEL=resnet20 -DBATCH=2 > /dev/null
cmake --build "$work/classify" > /dev/null
# A 40x30 PPM and a 32x32 PGM image (resized to 32x32 by the app).
{ printf 'P6\n40 30\n255\n'; head -c 3600 /dev/urandom; } > "$work/a.ppm"
{ printf 'P5\n32 32\n255\n'; head -c 1024 /dev/urandom; } > "$work/b.pgm"
"$work/classify/classify" --threads 1 --repeat 3 "$work/classify/resnetc/resnet20/resnet20.rnw" \
  "$work/a.ppm" "$work/b.pgm" | tee "$work/out.txt"
grep -q "a.ppm:" "$work/out.txt"
grep -q "b.pgm:" "$work/out.txt"
test "$(grep -c "  class " "$work/out.txt")" -eq 10
grep -q "resnet20, batch 2: median .* ms per batch over 3 runs (threads: 1)" "$work/out.txt"
# A truncated image is an error, not a crash.
{ printf 'P5\n32 32\n255\n'; head -c 100 /dev/urandom; } > "$work/short.pgm"
if "$work/classify/classify" "$work/classify/resnetc/resnet20/resnet20.rnw" "$work/short.pgm" 2> "$work/err.txt"; then
  echo "classify accepted a truncated image" >&2
  exit 1
fi
grep -q "shorter than its header says" "$work/err.txt"
# A missing image says so (not "not a PGM or PPM file").
if "$work/classify/classify" "$work/classify/resnetc/resnet20/resnet20.rnw" "$work/none.pgm" 2> "$work/err.txt"; then
  echo "classify accepted a missing image" >&2
  exit 1
fi
grep -q "none.pgm: cannot open (No such file or directory)" "$work/err.txt"
# A weights file for another model is refused with a clear message.
"$build_dir/bin/resnetc" init "$source_dir/examples/models/resnet32.rn" -o "$work/resnet32.rnw"
if "$work/classify/classify" "$work/resnet32.rnw" 2> "$work/err.txt"; then
  echo "classify accepted another model's weights" >&2
  exit 1
fi
grep -q "the weights are for model 'resnet32', not 'resnet20'" "$work/err.txt"
# The trainer from an install (docs/training.md "In your own program"):
# examples/train built on its own against the installed package.
cmake -S "$source_dir/examples/train" -B "$work/train" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/train" > /dev/null
"$work/train/resnetc-train-example" --epochs 1 --train-images 256 --test-images 64 --threads 2 \
  --out "$work/trained.rnw" --quiet | tee "$work/train.txt"
grep -q "^test accuracy" "$work/train.txt"
# What the package installs besides: resnetc-opt, the weights schema and header.
"$work/prefix/bin/resnetc-opt" --help > /dev/null
test -s "$work/prefix/share/resnetc/rnw.fbs"
test -s "$work/prefix/include/resnetc/runtime/rnw_generated.h"
test -s "$work/prefix/include/resnetc/runtime/WeightsFile.h"
"$work/prefix/bin/resnetc" info "$work/trained.rnw" | grep -q "normalise:    mean \["
echo "install + classify: ok"
