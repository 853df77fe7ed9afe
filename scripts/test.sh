#!/usr/bin/env bash
# The README's test command: set up, build, run every test (lit + GoogleTest) through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${RESNETC_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${RESNETC_JOBS:-$(nproc)}"
