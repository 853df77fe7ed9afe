#!/usr/bin/env bash
# Builds the front-end fuzzer (clang 22, libFuzzer, ASan + UBSan: the `fuzz`
# preset) and runs it for SECONDS (default 60) from a corpus seeded with every
# example model and the prelude. Exits non-zero on a crash, hang, leak or
# sanitizer report; the input that caused it is left in build-fuzz/findings/.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${RESNETC_FUZZ_BUILD_DIR:-$root/build-fuzz}
if ! command -v clang++-22 >/dev/null; then
  echo "fuzz: clang++-22 is missing (apt-get install clang-22 libclang-rt-22-dev): skipped" >&2
  exit 77
fi
mkdir -p "$build"
cmake --preset fuzz -S "$root" -B "$build" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" --target resnetc-fuzz-frontend -j "${RESNETC_JOBS:-$(nproc)}"

corpus=$build/corpus findings=$build/findings
mkdir -p "$corpus" "$findings"
cp "$root"/examples/models/*.rn "$root"/dsl/lib/prelude.rn "$root"/test/codegen/models/*.rn "$corpus"/
# Each input at most 64 KiB, 10 s and 2 GiB: a slow or huge case is a finding (a
# legitimately deep network, ResNet-1001 scale, takes about 2 s instrumented).
"$build/bin/resnetc-fuzz-frontend" "$corpus" -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 "$@" \
  2>&1 | tail -25
