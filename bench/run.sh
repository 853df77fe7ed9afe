#!/usr/bin/env bash
# The whole benchmark suite, one command: builds what it needs, measures the
# machine's FMA peak, then runs every benchmark beside its baselines and
# writes everything to one log. Never part of CI. See bench/README.md.
#
#   bench/run.sh [--quick] [--threads "1 2"] [--log FILE]
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run.sh [--quick] [--threads "1 2"] [--log FILE] [--skip LIST] [--peak-gflops G]

  --quick        fewer repetitions (a smoke run of the suite, minutes not an hour)
  --threads LIST thread counts (default "1 2")
  --log FILE     where the whole output goes as well (default bench/results/run-DATE.txt)
  --skip LIST    of peak, compile, infer, train, layers
  --peak-gflops G the one-thread peak to divide by when the peak is skipped
                 (default 98, the nominal figure)

In order: resnetc-bench-peak (the fp32 FMA peak of one and two threads,
measured now; every later "of peak" divides by the one-thread median),
compile_time.sh, infer.sh, train_step.sh (resnet20_fmnist, resnet20,
resnet56) and layers.sh. The build folder is build/ or $RESNETC_BUILD_DIR;
the benchmark models are built there with -DRESNETC_BUILD_BENCH_MODELS=ON,
and the option is set back to what it was on exit.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
quick=0 thread_list="1 2" log="" skip="" peak=98
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1; shift ;;
    --threads) thread_list=${2:?--threads needs a value}; shift 2 ;;
    --log) log=${2:?--log needs a value}; shift 2 ;;
    --skip) skip=${2?--skip needs a value}; shift 2 ;;
    --peak-gflops) peak=${2:?--peak-gflops needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for s in $skip; do
  [[ $s =~ ^(peak|compile|infer|train|layers)$ ]] || { echo "run.sh: cannot skip '$s'" >&2; exit 2; }
done
skipped() { [[ " $skip " == *" $1 "* ]]; }
[[ -f $build/CMakeCache.txt ]] ||
  { echo "run.sh: $build is not configured: run ./scripts/build.sh (or ./scripts/test.sh) first" >&2; exit 1; }
if [[ -z $log ]]; then
  mkdir -p "$root/bench/results"
  log=$root/bench/results/run-$(date -u +%Y%m%d-%H%M%S).txt
fi
exec > >(tee "$log") 2>&1

# Build the benchmark models, then put the option back as it was.
was=$(sed -nE 's/^RESNETC_BUILD_BENCH_MODELS:BOOL=(.*)/\1/p' "$build/CMakeCache.txt")
restore() { cmake -S "$root" -B "$build" -DRESNETC_BUILD_BENCH_MODELS="${was:-OFF}" >/dev/null || true; }
trap restore EXIT
echo "== building the benchmarks in $build"
cmake -S "$root" -B "$build" -DRESNETC_BUILD_BENCH_MODELS=ON >/dev/null
cmake --build "$build" --target resnetc resnetc-kernelgen resnetc-kernel-bench resnetc-bench-peak \
  resnetc-bench-models resnetc-bench-train-step-resnet20_fmnist
if ! cmake --build "$build" --target resnetc-bench-onednn-conv 2>/dev/null; then
  echo "(oneDNN's harness is not built: no libdnnl-dev; layers.sh measures resnetc alone)"
fi

echo
echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); resnetc $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
grep -m1 'model name' /proc/cpuinfo || true
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__)' 2>/dev/null || echo "PyTorch: not installed"

[[ $peak =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "run.sh: --peak-gflops must be a number" >&2; exit 2; }
if ! skipped peak; then
  echo
  echo "== peak (resnetc-bench-peak)"
  out=$("$build/bin/resnetc-bench-peak" --threads "$thread_list" --reps $((quick ? 3 : 7)))
  echo "$out"
  peak=$(awk '/^peak: 1 threads:/ { print $5 }' <<<"$out")
  [[ $peak =~ ^[0-9.]+$ ]] || peak=98
fi
echo "fractions of peak below are of $peak GFLOP/s a core"

if ! skipped compile; then
  echo
  echo "== compile time (bench/compile_time.sh)"
  "$root/bench/compile_time.sh" --reps $((quick ? 1 : 3))
fi
if ! skipped infer; then
  echo
  echo "== inference (bench/infer.sh)"
  # ONNX Runtime from npm; without it infer.sh says so and measures the rest.
  "$root/scripts/setup-onnxruntime.sh" || echo "run.sh: ONNX Runtime could not be installed" >&2
  "$root/bench/infer.sh" --threads "$thread_list" --peak-gflops "$peak" \
    --reps $((quick ? 1 : 3)) --runs $((quick ? 5 : 20))
fi
if ! skipped train; then
  echo
  echo "== training step (bench/train_step.sh)"
  "$root/bench/train_step.sh" --networks "resnet20_fmnist resnet20 resnet56" --threads "$thread_list" \
    --peak-gflops "$peak" --reps $((quick ? 1 : 3)) --steps $((quick ? 5 : 20))
fi
if ! skipped layers; then
  echo
  echo "== per layer (bench/layers.sh)"
  "$root/bench/layers.sh" --threads "$thread_list" --peak-gflops "$peak" \
    --runs $((quick ? 10 : 30))
fi
echo
echo "log: $log"
