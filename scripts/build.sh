#!/usr/bin/env bash
# Configures and builds resnetc into build/ (Release, Ninja, ccache when present).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${RESNETC_BUILD_DIR:-$root/build}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${RESNETC_BUILD_TYPE:-Release} "${launcher[@]}"
cmake --build "$build_dir" -j "${RESNETC_JOBS:-$(nproc)}"
