#!/usr/bin/env bash
# Builds the `asan` preset (AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs, under the sanitizers: every unit test (front end, reference executor,
# runtime: weights files, data sets, schedules, trainer parts), the lit tests
# (the command line and every diagnostic), and one compiled model's training
# steps and checkpoints (the generated library's runtime, instrumented).
# Any sanitizer report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RESNETC_ASAN_BUILD_DIR:-$root/build-asan}
mkdir -p "$build"
cmake --preset asan -S "$root" -B "$build" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "${RESNETC_JOBS:-$(nproc)}" --target \
  resnetc resnetc-opt resnetc-kernelgen resnetc-unittests resnetc-compiled-training-tests
# allow_user_poisoning=0: LLVM and MLIR are uninstrumented static libraries;
# RnDialect.cpp's instrumented copy of BumpPtrAllocator::AllocateSlow (an LLVM
# header template, needed by the dialect's attributes) poisons slabs that
# MLIR's uninstrumented inline Allocate then hands out (a false report while
# MLIR sets up its builtin dialect). ASan's own checks stay on; only the
# headers' manual poisoning is ignored.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$build/bin/resnetc-unittests" --gtest_brief=1
"$build/bin/resnetc-compiled-training-tests" --gtest_brief=1
/usr/lib/llvm-22/bin/lit -q "$build/test/lit"
echo "sanitizers: unit tests, lit tests and a compiled model's training ran clean"
