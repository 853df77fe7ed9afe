#!/usr/bin/env bash
# The speed benchmark: one training step (forward, loss, backward, SGD) at
# batch 128 of ResNet-20 on Fashion-MNIST's 1x28x28 images and of the CIFAR
# ResNet-20 and ResNet-56 (3x32x32), and at batch 32 (the per-GPU batch of the
# paper's ImageNet runs) of ResNet-50 (3x224x224), resnetc against PyTorch (NCHW and
# channels_last), with 1 and 2 threads, in alternating repetitions so that all
# see the same machine state. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/train_step.sh [--networks "resnet20_fmnist"] [--steps 20] [--reps 3]
                           [--warmup-steps 3] [--threads "1 2"]
                           [--peak-gflops 98] [--python PYTHON] [--pytorch-only]

  --networks LIST   of resnet20_fmnist (1x28x28), resnet20 and resnet56 (CIFAR,
                    3x32x32), resnet50 (ImageNet, 3x224x224, batch 32; all but the
                    first built with cmake -DRESNETC_BUILD_BENCH_MODELS=ON)
  --steps N         timed steps of each run (default 20)
  --reps R          runs of each trainer per thread count, alternating (default 3)
  --warmup-steps W  untimed steps before them (default 3)
  --threads LIST    thread counts to measure (default "1 2")
  --peak-gflops G   peak GFLOP/s of one core, for the fraction of peak (default 98)
  --python PY       the Python with torch (default /usr/bin/python3)
  --pytorch-only    measure PyTorch only (when resnetc-bench-train-step-NETWORK is not built)

Per thread count and trainer: the median of the runs' median step times, the
best step of all, images/s at that median, and GFLOP/s counting a step as
3 x 2 x (forward multiply-adds) x batch FLOPs, with its fraction of threads x peak.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
networks=resnet20_fmnist steps=20 reps=3 warmup=3 thread_list="1 2" peak=98 python=/usr/bin/python3 pytorch_only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --networks) networks=${2:?--networks needs a value}; shift 2 ;;
    --steps) steps=${2:?--steps needs a value}; shift 2 ;;
    --reps) reps=${2:?--reps needs a value}; shift 2 ;;
    --warmup-steps) warmup=${2:?--warmup-steps needs a value}; shift 2 ;;
    --threads) thread_list=${2:?--threads needs a value}; shift 2 ;;
    --peak-gflops) peak=${2:?--peak-gflops needs a value}; shift 2 ;;
    --python) python=${2:?--python needs a value}; shift 2 ;;
    --pytorch-only) pytorch_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "train_step.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$steps" "$reps" $thread_list; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "train_step.sh: '$v' is not a positive integer" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "train_step.sh: --warmup-steps must be an integer" >&2; exit 2; }

script=$root/bench/pytorch/resnet20_fmnist.py
for network in $networks; do
  case $network in
    resnet20_fmnist) ;;
    resnet20|resnet56|resnet50) how="cmake -B ${build#"$root"/} -DRESNETC_BUILD_BENCH_MODELS=ON && " ;;
    *) echo "train_step.sh: unknown network '$network' (resnet20_fmnist, resnet20, resnet56, resnet50)" >&2; exit 2 ;;
  esac
  bench=$build/bin/resnetc-bench-train-step-$network
  if [[ $pytorch_only == 0 && ! -x $bench ]]; then
    echo "train_step.sh: $bench is missing: build it first (${how:-}cmake --build ${build#"$root"/} --target ${bench##*/}), or pass --pytorch-only" >&2
    exit 1
  fi
done
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "train_step.sh: $python cannot import torch (Debian: apt-get install python3-torch python3-numpy)" >&2
  exit 1
fi

log=$(mktemp -d "${TMPDIR:-/tmp}/train_step.XXXXXX")
trap 'rm -rf "$log"' EXIT

measure() { # LABEL COMMAND...: runs it, appends "LABEL median best peak_mib" to $log/results
  local label=$1; shift
  local output
  if ! output=$("$@" 2>&1); then
    echo "$output" >&2
    echo "train_step.sh: '$*' failed" >&2
    exit 1
  fi
  local line
  line=$(grep -E '^train step: median [0-9.]+ ms, best [0-9.]+ ms' <<<"$output" | tail -n 1 || true)
  if [[ -z $line ]]; then
    echo "$output" >&2
    echo "train_step.sh: no 'train step: median X ms, best Y ms' line from '$*'" >&2
    exit 1
  fi
  local median best memory
  median=$(sed -E 's/^train step: median ([0-9.]+) ms.*/\1/' <<<"$line")
  best=$(sed -E 's/.*, best ([0-9.]+) ms.*/\1/' <<<"$line")
  memory=$(sed -nE 's/^peak memory ([0-9]+) MiB.*/\1/p' <<<"$output" | tail -n 1)
  memory=${memory:--}
  printf '  %-28s median %8.1f ms  best %8.1f ms  peak memory %s MiB\n' "$label" "$median" "$best" "$memory"
  echo "$label $median $best $memory" >>"$log/results"
}

# bench_network NETWORK: the runs and the summary table of one network.
bench_network() {
  local network=$1 bench=$build/bin/resnetc-bench-train-step-$1 batch=128
  if [[ $network == resnet50 ]]; then
    batch=32 # as bench/CMakeLists.txt compiles it
  fi
  # The forward multiply-adds per image, counted from the PyTorch model's conv
  # and fc shapes (resnetc stats gives the same).
  local macs gflop
  macs=$("$python" "$script" --network "$network" --count-macs |
         awk '/multiply-adds per image forward/ { print $NF }')
  [[ $macs =~ ^[0-9]+$ ]] || { echo "train_step.sh: cannot count the multiply-adds" >&2; exit 1; }
  gflop=$(awk -v m="$macs" -v b=$batch 'BEGIN { printf "%.3f", 3 * 2 * m * b / 1e9 }')
  echo
  echo "### $network, batch $batch: $(awk -v m="$macs" 'BEGIN { printf "%.2fM", m / 1e6 }') multiply-adds an image forward ($macs);"
  echo "a training step counted as 3 x 2 x that x $batch = $gflop GFLOP; peak $peak GFLOP/s a core"
  echo "steps $steps (after $warmup warm-up), $reps alternating runs of each"
  : >"$log/results"
  local t r
  for t in $thread_list; do
    echo
    echo "== $network, $t thread(s)"
    for ((r = 1; r <= reps; ++r)); do
      if [[ $pytorch_only == 0 ]]; then
        measure "resnetc/$t" "$bench" --threads "$t" --steps "$steps" --warmup-steps "$warmup"
      fi
      measure "pytorch-nchw/$t" "$python" "$script" --network "$network" --time-steps "$steps" \
        --warmup-steps "$warmup" --threads "$t" --batch $batch
      measure "pytorch-channels-last/$t" "$python" "$script" --network "$network" \
        --time-steps "$steps" --warmup-steps "$warmup" --threads "$t" --batch $batch --channels-last
    done
  done

  echo
  echo "== $network: summary (median of the runs' medians; best step of all runs)"
  awk -v gflop="$gflop" -v peak="$peak" -v batch=$batch -v list="$thread_list" '
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
      split($1, k, "/"); who = k[1]; t = k[2]
      medians[who, t] = medians[who, t] " " $2
      if (!((who, t) in best) || $3 + 0 < best[who, t]) best[who, t] = $3 + 0
      if ($4 != "-" && $4 + 0 > memory[who, t]) memory[who, t] = $4 + 0
    }
    END {
      printf "%-22s %7s %10s %10s %9s %9s %8s %10s %14s\n", "trainer", "threads", "median ms", "best ms",
             "images/s", "GFLOP/s", "of peak", "peak MiB", "vs resnetc"
      nt = split(list, threads, " ")
      split("resnetc pytorch-nchw pytorch-channels-last", names, " ")
      for (i = 1; i <= nt; ++i) {
        t = threads[i]
        base = ((("resnetc", t) in best)) ? median(medians["resnetc", t]) : 0
        for (j = 1; j <= 3; ++j) {
          who = names[j]
          if (!((who, t) in best)) continue
          m = median(medians[who, t])
          ratio = base > 0 ? sprintf("%.2fx", m / base) : "-"
          mem = ((who, t) in memory) ? memory[who, t] : "-"
          printf "%-22s %7d %10.1f %10.1f %9.0f %9.1f %7.1f%% %10s %14s\n", who, t, m, best[who, t],
                 batch * 1000 / m, gflop * 1000 / m, 100 * gflop * 1000 / m / (t * peak), mem, ratio
        }
      }
      print "vs resnetc: the trainer'"'"'s median step time / resnetc'"'"'s (above 1: resnetc is faster)"
    }' "$log/results"
}

for network in $networks; do
  bench_network "$network"
done
