#!/usr/bin/env bash
# Data-parallel training on this machine: `resnetc train` of ResNet-20 on
# Fashion-MNIST at a global batch of 128, as one process with one thread and
# as two MPI ranks with one thread each (the same global batch: 64 images a
# rank), in alternating repetitions. The two-rank runs are made twice: with
# small gradient buckets, whose allreduces start while the backward pass goes
# on (the default placement), and with one bucket of every gradient, started
# only when the last one is written (no overlap). A run of one process with
# two threads shows the same two cores used by threads instead. See
# bench/README.md and docs/distributed.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/distributed.sh [--steps 40] [--reps 3] [--bucket-mb 0.25]

  --steps N      training steps of each run (default 40; the first few warm up)
  --reps R       runs of each configuration, alternating (default 3)
  --bucket-mb M  the small buckets of the overlapped runs (default 0.25)

Per configuration: the median and the best of the runs' ms/step (an epoch's
seconds over its steps), GFLOP/s counting a step as 3 x 2 x (forward
multiply-adds) x 128, its fraction of the peak measured in this run, and for
two ranks the scaling efficiency (one rank's step time / (2 x two ranks')),
and the allreduce seconds a step: on the communication thread, and waited for
by the step (the part the backward pass did not hide).
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
steps=40 reps=3 bucket=0.25 batch=128
while [[ $# -gt 0 ]]; do
  case $1 in
    --steps) steps=${2:?--steps needs a value}; shift 2 ;;
    --reps) reps=${2:?--reps needs a value}; shift 2 ;;
    --bucket-mb) bucket=${2:?--bucket-mb needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/distributed.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
command -v mpirun > /dev/null || { echo "bench/distributed.sh: mpirun is missing (scripts/setup.sh)" >&2; exit 1; }
resnetc=$build/bin/resnetc
model=$root/examples/models/resnet20_fmnist.rn
mpi=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

macs=$("$resnetc" stats "$model" | awk '/^multiply-adds:/ {print $2}')
peak=$("$build/bin/resnetc-bench-peak" --threads 1 --reps 3 | awk '/median/ {print $5}')
echo "resnetc data-parallel benchmark: ResNet-20 (Fashion-MNIST), global batch $batch, $steps steps a run"
echo "peak (this run): $peak GFLOP/s a core; $(nproc) cores; $(mpirun --version | head -1)"

# One run: prints "ms_per_step allreduce_seconds_a_step waited_seconds_a_step".
run() { # name ranks threads bucket_mb
  local name=$1 ranks=$2 threads=$3 mb=$4 dir=$work/$1
  rm -rf "$dir"
  local args=(train "$model" --batch $batch --epochs 1 --train-images $((steps * batch))
              --test-images 128 --threads "$threads" --no-progress --allreduce-bucket-mb "$mb"
              --checkpoint-dir "$dir")
  if [ "$ranks" = 1 ]; then
    "$resnetc" "${args[@]}" > "$dir.txt" 2>&1
  else
    "${mpi[@]}" -np "$ranks" "$resnetc" "${args[@]}" > "$dir.txt" 2>&1
  fi
  awk -v steps="$steps" '
    $1 == "epoch" { for (i = 1; i <= NF; ++i) if ($i == "ms/step") ms = $(i - 1) }
    /gradient allreduces/ { sum += $7; wait += $(NF - 7); n += 1 }
    END { printf "%s %.2f %.2f\n", ms, n ? 1e3 * sum / n / steps : 0, n ? 1e3 * wait / n / steps : 0 }
  ' "$dir.txt"
}

configs=("one-rank 1 1 25" "one-rank-2-threads 1 2 25" "two-ranks-overlap 2 1 $bucket"
         "two-ranks-one-bucket 2 1 1000")
for ((r = 0; r < reps; ++r)); do
  for config in "${configs[@]}"; do
    read -r name ranks threads mb <<< "$config"
    echo "$name $(run "$name" "$ranks" "$threads" "$mb")" >> "$work/results"
  done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
best() { sort -g | head -1; }
one=$(awk '$1 == "one-rank" {print $2}' "$work/results" | median)
printf "\n%-22s %8s %8s %9s %8s %10s %16s %14s\n" configuration "median" "best" "GFLOP/s" "of peak" \
  "efficiency" "allreduce ms/step" "waited ms/step"
for config in "${configs[@]}"; do
  read -r name ranks threads mb <<< "$config"
  med=$(awk -v n="$name" '$1 == n {print $2}' "$work/results" | median)
  top=$(awk -v n="$name" '$1 == n {print $2}' "$work/results" | best)
  sum=$(awk -v n="$name" '$1 == n {print $3}' "$work/results" | median)
  wait=$(awk -v n="$name" '$1 == n {print $4}' "$work/results" | median)
  awk -v name="$name" -v med="$med" -v top="$top" -v macs="$macs" -v b="$batch" -v peak="$peak" \
      -v cores="$((ranks * threads))" -v one="$one" -v ranks="$ranks" -v sum="$sum" -v wait="$wait" '
    BEGIN {
      gflops = 6 * macs * b / (med * 1e6)
      eff = ranks > 1 ? sprintf("%.0f%%", 100 * one / (ranks * med)) : "-"
      shown_sum = ranks > 1 ? sum : "-"
      shown_wait = ranks > 1 ? wait : "-"
      printf "%-22s %6.1f ms %6.1f ms %9.1f %7.1f%% %10s %16s %14s\n", name, med, top, gflops,
             100 * gflops / (cores * peak), eff, shown_sum, shown_wait
    }'
done
echo
echo "Efficiency: one rank's median step time over twice the two ranks' (same global batch)."
echo "Two ranks on two cores share them with their communication threads and with MPI's"
echo "shared-memory polling; overlap = one-bucket minus overlapped step time."
