#!/usr/bin/env bash
# The inference benchmark: the compiled forward pass of ResNet-50 (batch 1 and
# 8), ResNet-18 and ResNeXt-50 32x4d (batch 1), ResNet-20 and ResNet-56 (batch
# 128), resnetc against
# ONNX Runtime (npm's onnxruntime-node, on the PyTorch networks exported by
# torch.onnx) and PyTorch (NCHW and channels_last), with 1 and 2 threads, in alternating
# repetitions so that every runner sees the same machine state. See
# bench/README.md.
set -euo pipefail

default_cases="resnet50:1 resnet50:8 resnet18:1 resnext50_32x4d:1 resnet20:128 resnet56:128"
usage() {
  cat <<USAGE
usage: bench/infer.sh [--runs 20] [--warmup 3] [--reps 3] [--threads "1 2"]
                      [--cases "$default_cases"]
                      [--peak-gflops 98] [--python PYTHON] [--pytorch-only] [--resnet50-variant v1]
                      [--pytorch-fold-bn] [--no-onnxruntime]

  --runs N          timed forward passes of each run (default 20)
  --warmup W        untimed passes before them (default 3)
  --reps R          runs of each runner per case and thread count, alternating (default 3)
  --threads LIST    thread counts to measure (default "1 2")
  --cases LIST      MODEL:BATCH pairs (default all of the above)
  --peak-gflops G   peak GFLOP/s of one core, for the fraction of peak (default 98)
  --python PY       the Python with torch (default /usr/bin/python3)
  --pytorch-only    measure PyTorch only (also for cases whose resnetc binary is not built)
  --resnet50-variant v1|v1.5
                    PyTorch's ResNet-50: v1 (stride on the first 1x1, as
                    examples/models/resnet50.rn: the same network; default) or
                    v1.5 (stride on the 3x3, torchvision's; 6% more multiply-adds)
  --pytorch-fold-bn fold PyTorch's batch norms into its convs first, as resnetc
                    does (default: PyTorch's eager modules as they are)
  --no-onnxruntime  leave ONNX Runtime out (it runs when scripts/setup-onnxruntime.sh
                    has installed it: node bench/onnxruntime/infer.js, on the PyTorch
                    model exported by bench/onnxruntime/export.py, all graph
                    optimisations, T intra-op threads)

The resnetc side is build/bin/resnetc-bench-infer-MODEL-bBATCH, built with
cmake -DRESNETC_BUILD_BENCH_MODELS=ON. Per case, thread count and runner:
the median of the runs' medians, the best pass of all, images/s at that median,
GFLOP/s counting 2 x multiply-adds x batch (the multiply-adds from resnetc stats
for resnetc, from the PyTorch model for PyTorch), its fraction of threads x
peak, the peak memory, and the runner's median over resnetc's.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
runs=20 warmup=3 reps=3 thread_list="1 2" cases=$default_cases peak=98 python=/usr/bin/python3
pytorch_only=0 variant=v1 fold_bn=0 onnxruntime=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --warmup) warmup=${2:?--warmup needs a value}; shift 2 ;;
    --reps) reps=${2:?--reps needs a value}; shift 2 ;;
    --threads) thread_list=${2:?--threads needs a value}; shift 2 ;;
    --cases) cases=${2:?--cases needs a value}; shift 2 ;;
    --peak-gflops) peak=${2:?--peak-gflops needs a value}; shift 2 ;;
    --python) python=${2:?--python needs a value}; shift 2 ;;
    --pytorch-only) pytorch_only=1; shift ;;
    --resnet50-variant) variant=${2:?--resnet50-variant needs a value}; shift 2 ;;
    --pytorch-fold-bn) fold_bn=1; shift ;;
    --no-onnxruntime) onnxruntime=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "infer.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$runs" "$reps" $thread_list; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "infer.sh: '$v' is not a positive integer" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "infer.sh: --warmup must be an integer" >&2; exit 2; }
[[ $peak =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "infer.sh: --peak-gflops must be a number" >&2; exit 2; }
[[ $variant == v1 || $variant == v1.5 ]] || { echo "infer.sh: --resnet50-variant is v1 or v1.5" >&2; exit 2; }
for c in $cases; do
  [[ $c =~ ^(resnet18|resnet50|resnext50_32x4d|resnet20|resnet56):[1-9][0-9]*$ ]] ||
    { echo "infer.sh: '$c' is not MODEL:BATCH with MODEL one of resnet18 resnet50 resnext50_32x4d resnet20 resnet56" >&2; exit 2; }
done

resnetc=$build/bin/resnetc
script=$root/bench/pytorch/infer.py
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "infer.sh: $python cannot import torch (Debian: apt-get install python3-torch)" >&2
  exit 1
fi
ort_dir=$root/bench/onnxruntime
ort_package=${RESNETC_ONNXRUNTIME_NODE:-$HOME/.cache/resnetc/onnxruntime/node_modules/onnxruntime-node}
if [[ $onnxruntime == 1 ]] && ! { command -v node >/dev/null && [[ -f $ort_package/package.json ]]; }; then
  echo "infer.sh: ONNX Runtime is left out: run scripts/setup-onnxruntime.sh (npm) first" >&2
  onnxruntime=0
fi
timer=()
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
  timer=(/usr/bin/time -v) # peak memory of each run, the same way for both runners
fi

log=$(mktemp -d "${TMPDIR:-/tmp}/infer.XXXXXX")
trap 'rm -rf "$log"' EXIT

# measure CASE THREADS RUNNER MACS COMMAND...: runs it, appends
# "CASE THREADS RUNNER MEDIAN BEST MACS PEAK_MIB" to $log/results.
measure() {
  local case=$1 t=$2 runner=$3 macs=$4; shift 4
  local output
  if ! output=$("${timer[@]}" "$@" 2>&1); then
    echo "$output" >&2
    echo "infer.sh: '$*' failed" >&2
    exit 1
  fi
  local line
  line=$(grep -E '^inference: median [0-9.]+ ms, best [0-9.]+ ms' <<<"$output" | tail -n 1 || true)
  if [[ -z $line ]]; then
    echo "$output" >&2
    echo "infer.sh: no 'inference: median X ms, best Y ms' line from '$*'" >&2
    exit 1
  fi
  local median best mib
  median=$(sed -E 's/^inference: median ([0-9.]+) ms.*/\1/' <<<"$line")
  best=$(sed -E 's/.*, best ([0-9.]+) ms.*/\1/' <<<"$line")
  mib=$(awk -F': *' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' <<<"$output")
  if [[ -z $mib ]]; then # no /usr/bin/time: PyTorch's own line
    mib=$(sed -nE 's/^peak memory ([0-9]+) MiB.*/\1/p' <<<"$output" | tail -n 1)
  fi
  printf '  %-26s median %9.2f ms  best %9.2f ms\n' "$runner/$t" "$median" "$best"
  echo "$case $t $runner $median $best $macs ${mib:-n/a}" >>"$log/results"
}

echo "runs $runs (after $warmup warm-up), $reps alternating runs of each runner;" \
     "peak $peak GFLOP/s a core; PyTorch's ResNet-50 is $variant," \
     "its batch norms $([[ $fold_bn == 1 ]] && echo "folded into the convs" || echo "eager modules")"
measured_cases=""
for c in $cases; do
  model=${c%%:*} batch=${c##*:}
  bench=$build/bin/resnetc-bench-infer-$model-b$batch
  run_resnetc=1
  if [[ ! -x $bench ]]; then
    run_resnetc=0
    how="cmake -B ${build#"$root"/} -DRESNETC_BUILD_BENCH_MODELS=ON && cmake --build ${build#"$root"/} --target resnetc-bench-infer-$model-b$batch"
    if [[ $pytorch_only == 0 ]]; then
      echo
      echo "== $model, batch $batch: skipped, $bench is not built ($how)"
      continue
    fi
  fi
  [[ $pytorch_only == 1 ]] && run_resnetc=0
  pyargs=(--model "$model" --batch "$batch" --runs "$runs" --warmup "$warmup")
  [[ $model == resnet50 ]] && pyargs+=(--variant "$variant")
  [[ $fold_bn == 1 ]] && pyargs+=(--fold-bn)

  # Multiply-adds per image: resnetc's count of its network, PyTorch's of its own.
  macs_py=$("$python" "$script" --model "$model" --variant "$variant" --count-macs |
            awk '/multiply-adds per image forward/ { print $NF }')
  [[ $macs_py =~ ^[0-9]+$ ]] || { echo "infer.sh: cannot count PyTorch's multiply-adds of $model" >&2; exit 1; }
  macs_rc=$macs_py
  if [[ -x $resnetc ]]; then
    macs_rc=$("$resnetc" stats "$root/examples/models/$model.rn" --json |
              python3 -c 'import json, sys; print(json.load(sys.stdin)["macs"])')
    [[ $macs_rc =~ ^[0-9]+$ ]] || { echo "infer.sh: cannot read the multiply-adds from resnetc stats" >&2; exit 1; }
  fi
  echo
  echo "== $model, batch $batch: $(awk -v m="$macs_rc" 'BEGIN { printf "%.2fM", m / 1e6 }') multiply-adds an image (resnetc stats)"
  if [[ $macs_py != "$macs_rc" ]]; then
    echo "   PyTorch's model does $macs_py, resnetc's $macs_rc: not the same network (ResNet-50 v1 against v1.5?);" \
         "images/s compare different work, GFLOP/s each its own count"
  fi
  measured_cases+=" $c"
  onnx=$log/$model-b$batch.onnx
  if [[ $onnxruntime == 1 ]]; then
    "$python" "$ort_dir/export.py" --model "$model" --variant "$variant" --batch "$batch" \
      -o "$onnx" >/dev/null 2>"$log/export.log" ||
      { cat "$log/export.log" >&2; echo "infer.sh: exporting $model to ONNX failed" >&2; exit 1; }
  fi
  for t in $thread_list; do
    for ((r = 1; r <= reps; ++r)); do
      if [[ $run_resnetc == 1 ]]; then
        measure "$c" "$t" resnetc "$macs_rc" "$bench" --threads "$t" --runs "$runs" --warmup "$warmup"
      fi
      if [[ $onnxruntime == 1 ]]; then
        measure "$c" "$t" onnxruntime "$macs_py" node "$ort_dir/infer.js" "$onnx" --threads "$t" \
          --runs "$runs" --warmup "$warmup"
      fi
      measure "$c" "$t" pytorch-nchw "$macs_py" "$python" "$script" "${pyargs[@]}" --threads "$t"
      measure "$c" "$t" pytorch-channels-last "$macs_py" "$python" "$script" "${pyargs[@]}" \
        --threads "$t" --channels-last
    done
  done
done

if [[ ! -s $log/results ]]; then
  echo
  echo "infer.sh: nothing was measured"
  exit 1
fi
echo
echo "== Summary (median of the runs' medians; best pass of all runs)"
awk -v peak="$peak" -v list="$thread_list" -v cases="$measured_cases" '
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    k = $1 SUBSEP $2 SUBSEP $3
    medians[k] = medians[k] " " $4
    if (!(k in best) || $5 + 0 < best[k]) best[k] = $5 + 0
    macs[k] = $6
    if ($7 != "n/a" && (!(k in mib) || $7 + 0 > mib[k])) mib[k] = $7 + 0
  }
  END {
    printf "%-10s %6s %7s %-22s %10s %10s %9s %8s %8s %9s %11s\n", "model", "batch", "threads",
           "runner", "median ms", "best ms", "images/s", "GFLOP/s", "of peak", "peak MiB", "vs resnetc"
    nc = split(cases, cs, " "); nt = split(list, threads, " ")
    nn = split("resnetc onnxruntime pytorch-nchw pytorch-channels-last", names, " ")
    for (ci = 1; ci <= nc; ++ci) {
      c = cs[ci]; split(c, mb, ":"); batch = mb[2]
      for (ti = 1; ti <= nt; ++ti) {
        t = threads[ti]
        base = ((c, t, "resnetc") in best) ? median(medians[c, t, "resnetc"]) : 0
        fastest = 0
        for (j = 1; j <= nn; ++j) {
          k = c SUBSEP t SUBSEP names[j]
          if (!(k in best)) continue
          m = median(medians[k])
          if (j > 2 && (fastest == 0 || m < fastest)) fastest = m
          gflops = 2 * macs[k] * batch / m / 1e6
          printf "%-10s %6d %7d %-22s %10.2f %10.2f %9.1f %8.1f %7.1f%% %9s %11s\n", mb[1], batch, t,
                 names[j], m, best[k], batch * 1000 / m, gflops, 100 * gflops / (t * peak),
                 ((k in mib) ? mib[k] : "n/a"), (base > 0 ? sprintf("%.2fx", m / base) : "-")
        }
        ort = c SUBSEP t SUBSEP "onnxruntime"
        if (base > 0 && (ort in best))
          printf "%-10s %6d %7d resnetc is %.2fx as fast as ONNX Runtime\n", mb[1], batch, t, median(medians[ort]) / base
        if (base > 0 && fastest > 0)
          printf "%-10s %6d %7d resnetc is %.2fx as fast as PyTorch'"'"'s faster layout\n", mb[1], batch, t, fastest / base
      }
    }
    print "vs resnetc: the runner'"'"'s median / resnetc'"'"'s (above 1: resnetc is faster)"
  }' "$log/results"
