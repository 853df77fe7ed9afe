#!/usr/bin/env bash
# Builds the ONNX reader's fuzzer (clang 22, libFuzzer, ASan + UBSan: the
# `fuzz` preset) and runs it for SECONDS (default 60) from a corpus of small
# ONNX models: the variants of test/lit/Inputs/make_onnx.py (python3-onnx)
# and, when a resnetc is built in build/, the export of every example model.
# Exits non-zero on a crash, hang, leak or sanitizer report; the input that
# caused it is left in build-fuzz/findings-onnx/.
#
#   scripts/fuzz-onnx.sh [SECONDS] [extra libFuzzer flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${RESNETC_FUZZ_BUILD_DIR:-$root/build-fuzz}
if ! command -v clang++-22 >/dev/null; then
  echo "fuzz-onnx: clang++-22 is missing (apt-get install clang-22 libclang-rt-22-dev): skipped" >&2
  exit 77
fi
mkdir -p "$build"
cmake --preset fuzz -S "$root" -B "$build" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" --target resnetc-fuzz-onnx -j "${RESNETC_JOBS:-$(nproc)}"

corpus=$build/corpus-onnx findings=$build/findings-onnx
mkdir -p "$corpus" "$findings"
python=/usr/bin/python3
if "$python" -c 'import onnx' 2> /dev/null; then
  for variant in good option-a sigmoid groups dilation channels add-shapes add-constant fork3 \
                 bad-pad gemm opset8; do
    "$python" "$root/test/lit/Inputs/make_onnx.py" "$variant" "$corpus/$variant.onnx"
  done
fi
resnetc=$root/build/bin/resnetc
if [ -x "$resnetc" ]; then
  for model in resnet20 resnet20_fmnist resnet34a plain20 preact_resnet110; do
    "$resnetc" init "$root/examples/models/$model.rn" -o "$build/$model.rnw"
    "$resnetc" export "$build/$model.rnw" --model "$root/examples/models/$model.rn" \
      -o "$corpus/$model.onnx" > /dev/null
  done
fi
# Models are larger than text: inputs up to 4 MiB (ResNet-20 is 1.1 MiB).
"$build/bin/resnetc-fuzz-onnx" "$corpus" -max_total_time="$seconds" -max_len=4194304 \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 "$@" \
  2>&1 | tail -25
