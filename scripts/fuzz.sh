#!/usr/bin/env bash
# Builds a fuzzer (clang 22, libFuzzer, ASan + UBSan: the `fuzz` preset) and
# runs it for SECONDS (default 60) from a seeded corpus. Exits non-zero on a
# crash, hang, leak or sanitizer report; the input that caused it is left in
# build-fuzz/findings-FUZZER/.
#
#   scripts/fuzz.sh [SECONDS] [FUZZER] [extra libFuzzer flags]
#
# FUZZER (default frontend):
#   frontend     the .rn front end, from every example model and the prelude
#   onnx         the ONNX reader (resnetc import), from small models made by
#                test/lit/Inputs/make_onnx.py and resnetc's exports of examples
#   safetensors  the safetensors reader, from resnetc's exports of examples
# The last two use build/bin/resnetc for their seeds when it is built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
fuzzer=frontend
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  fuzzer=$1
  shift
fi
build=${RESNETC_FUZZ_BUILD_DIR:-$root/build-fuzz}
if ! command -v clang++-22 >/dev/null; then
  echo "fuzz: clang++-22 is missing (apt-get install clang-22 libclang-rt-22-dev): skipped" >&2
  exit 77
fi
mkdir -p "$build"
cmake --preset fuzz -S "$root" -B "$build" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" --target "resnetc-fuzz-$fuzzer" -j "${RESNETC_JOBS:-$(nproc)}"

corpus=$build/corpus-$fuzzer findings=$build/findings-$fuzzer
mkdir -p "$corpus" "$findings"
resnetc=$root/build/bin/resnetc
# Exports of a few example models in the format at hand (.onnx, .safetensors).
exports() {
  [ -x "$resnetc" ] || return 0
  for model in resnet20 resnet20_fmnist resnet34a plain20 preact_resnet110; do
    "$resnetc" init "$root/examples/models/$model.rn" -o "$build/$model.rnw"
    "$resnetc" export "$build/$model.rnw" --model "$root/examples/models/$model.rn" \
      -o "$corpus/$model.$1" > /dev/null
  done
}
case $fuzzer in
frontend)
  cp "$root"/examples/models/*.rn "$root"/dsl/lib/prelude.rn "$root"/test/codegen/models/*.rn \
    "$corpus"/
  # Each input at most 64 KiB: a legitimately deep network (ResNet-1001) takes
  # about 2 s instrumented.
  max_len=65536
  ;;
onnx)
  if /usr/bin/python3 -c 'import onnx' 2> /dev/null; then
    for variant in good option-a sigmoid groups dilation channels add-shapes add-constant fork3 \
                   bad-pad gemm opset8; do
      /usr/bin/python3 "$root/test/lit/Inputs/make_onnx.py" "$variant" "$corpus/$variant.onnx"
    done
  fi
  exports onnx
  max_len=4194304 # models are larger than text: ResNet-20 is 1.1 MiB
  ;;
safetensors)
  exports safetensors
  max_len=4194304
  ;;
*)
  echo "fuzz: unknown fuzzer '$fuzzer': use frontend, onnx or safetensors" >&2
  exit 2
  ;;
esac
# allow_user_poisoning=0: as in sanitize.sh, LLVM/MLIR are uninstrumented
# libraries; RnDialect.cpp's copy of BumpPtrAllocator::AllocateSlow (an LLVM
# header template) poisons slabs that MLIR's uninstrumented inline Allocate
# then hands out. ASan's own checks stay on.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allow_user_poisoning=0
# Each input at most 10 s and 2 GiB: a slow or huge case is a finding.
"$build/bin/resnetc-fuzz-$fuzzer" "$corpus" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 "$@" \
  2>&1 | tail -25
