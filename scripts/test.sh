#!/usr/bin/env bash
# The README's test command: set up, build, run every test (lit + GoogleTest) through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
# ONNX Runtime (npm's onnxruntime-node) for the ONNX round trip; without it
# that test checks exported graphs with onnx.checker and torch only.
"$root/scripts/setup-onnxruntime.sh" ||
  echo "test: onnxruntime-node could not be installed; the ONNX round trip runs without it" >&2
"$root/scripts/build.sh"
# The sanitizer build (its own tree) and a minute of fuzzing the front end
# and the two readers of other frameworks' files: each exits non-zero on a
# report, before the main test run.
"$root/scripts/sanitize.sh"
"$root/scripts/fuzz.sh" 30 frontend || [ $? -eq 77 ]
"$root/scripts/fuzz.sh" 15 onnx || [ $? -eq 77 ]
"$root/scripts/fuzz.sh" 15 safetensors || [ $? -eq 77 ]
cd "${RESNETC_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${RESNETC_JOBS:-$(nproc)}"
