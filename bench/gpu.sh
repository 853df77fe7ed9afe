#!/usr/bin/env bash
# The GPU benchmark: ResNet-50 inference (batch 1 and 32) and the training
# steps of ResNet-20 (CIFAR, batch 128) and ResNet-50 (ImageNet, batch 32),
# compiled for a GPU target, beside PyTorch on the same GPU where its torch
# has CUDA. Each API call is timed whole: the input's upload and the logits'
# (or the loss's) download are in the figures, as they are for PyTorch. See
# bench/README.md.
set -euo pipefail

default_cases="infer-resnet50-b1 infer-resnet50-b32 train-step-resnet20 train-step-resnet50"
usage() {
  cat <<USAGE
usage: bench/gpu.sh [--target x86-64-linux-cuda-cuda_capability_80] [--cases "$default_cases"]
                    [--runs 20] [--warmup 3] [--build DIR] [--python PYTHON] [--log FILE]

  --target T    the GPU target the libraries are compiled for (default CUDA,
                sm_80 PTX, which the driver also runs on sm_90 (H100); OpenCL:
                x86-64-linux-opencl)
  --cases LIST  which programs to build and run (default all of the above)
  --runs N      timed calls (training: steps) of each (default 20)
  --warmup W    untimed calls first (default 3)
  --build DIR   resnetc's build folder (default build/); the option
                RESNETC_GPU_BENCH_TARGET is set there and restored after
  --python PY   the Python with torch for the baseline (default /usr/bin/python3)
  --log FILE    also write everything printed to FILE
USAGE
}

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build target=x86-64-linux-cuda-cuda_capability_80 cases=$default_cases
runs=20 warmup=3 python=/usr/bin/python3 log=""
while (($#)); do
  case $1 in
  --target) target=$2; shift 2 ;;
  --cases) cases=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --warmup) warmup=$2; shift 2 ;;
  --build) build=$(realpath -m "$2"); shift 2 ;;
  --python) python=$2; shift 2 ;;
  --log) log=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
done
for c in $cases; do
  [[ " $default_cases " == *" $c "* ]] || { echo "gpu.sh: unknown case '$c'" >&2; exit 2; }
done
if [[ -n $log ]]; then
  exec > >(tee "$log") 2>&1
fi

was=$(sed -nE 's/^RESNETC_GPU_BENCH_TARGET:STRING=(.*)/\1/p' "$build/CMakeCache.txt" 2>/dev/null || true)
restore() { cmake -S "$root" -B "$build" -DRESNETC_GPU_BENCH_TARGET="$was" >/dev/null || true; }
trap restore EXIT
cmake -S "$root" -B "$build" -DRESNETC_GPU_BENCH_TARGET="$target" >/dev/null
programs=()
for c in $cases; do programs+=("resnetc-bench-gpu-$c"); done
cmake --build "$build" --target "${programs[@]}"

echo "== GPU benchmark, target $target, $(date -u +%Y-%m-%dT%H:%MZ)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
for c in $cases; do
  echo "-- $c"
  if [[ $c == infer-* ]]; then
    resnetc=$("$build/bin/resnetc-bench-gpu-$c" --runs "$runs" --warmup "$warmup" | tail -1)
  else
    # The last line of the train-step programs is the peak memory.
    resnetc=$("$build/bin/resnetc-bench-gpu-$c" --steps "$runs" --warmup-steps "$warmup" |
      grep '^train step:')
  fi
  echo "resnetc: $resnetc"
  set +e
  pytorch=$(cd "$root/bench/pytorch" && "$python" gpu.py --case "$c" --runs "$runs" --warmup "$warmup" 2>&1)
  status=$?
  set -e
  pytorch=$(tail -1 <<<"$pytorch")
  echo "pytorch: $pytorch"
  ours=$(sed -nE 's/.*median ([0-9.]+) ms.*/\1/p' <<<"$resnetc")
  theirs=$(sed -nE 's/.*median ([0-9.]+) ms.*/\1/p' <<<"$pytorch")
  if ((status == 0)) && [[ -n $ours && -n $theirs ]]; then
    echo "ratio (PyTorch median / resnetc median): $(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2fx", a / b }')"
  fi
done
