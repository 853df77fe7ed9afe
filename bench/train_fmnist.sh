#!/usr/bin/env bash
# The accuracy benchmark: ResNet-20 on Fashion-MNIST, trained by resnetc and by
# PyTorch with the same recipe (batch 128, lr 0.1, multistep at 50% and 75%,
# pad4/crop/flip), once per seed, then a table of both side by side (per epoch
# for the first seed; the final accuracy's mean and spread over the seeds).
# See bench/README.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/train_fmnist.sh [--epochs 15] [--threads 2] [--seeds "1"] [--out DIR]
                             [--data DIR] [--python PYTHON] [--skip-resnetc] [--skip-pytorch]

  --epochs N      epochs of each run (default 15)
  --seeds LIST    one run of each trainer per seed (default "1"; "1 2 3" gives the
                  mean and spread of the final accuracy over three)
  --threads T     threads of each trainer (default 2)
  --out DIR       where the logs and metrics go (default bench/out/fmnist)
  --data DIR      the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --python PY     the Python with torch (default /usr/bin/python3)
  --skip-resnetc  do not train with resnetc: reuse DIR/resnetc-sSEED from an earlier run
  --skip-pytorch  do not train with PyTorch: reuse DIR/pytorch-sSEED-metrics.csv
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
epochs=15 threads=2 seeds=1 out=$root/bench/out/fmnist
data=/usr/share/datasets/fashion-mnist python=/usr/bin/python3
run_resnetc=1 run_pytorch=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --epochs) epochs=${2:?--epochs needs a value}; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --data) data=${2:?--data needs a value}; shift 2 ;;
    --python) python=${2:?--python needs a value}; shift 2 ;;
    --skip-resnetc) run_resnetc=0; shift ;;
    --skip-pytorch) run_pytorch=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "train_fmnist.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $epochs =~ ^[1-9][0-9]*$ ]] || { echo "train_fmnist.sh: --epochs must be a positive integer" >&2; exit 2; }
[[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "train_fmnist.sh: --threads must be a positive integer" >&2; exit 2; }
for seed in $seeds; do
  [[ $seed =~ ^[0-9]+$ ]] || { echo "train_fmnist.sh: --seeds are non-negative integers, got '$seed'" >&2; exit 2; }
done
read -r first_seed _ <<< "$seeds"

resnetc=$build/bin/resnetc
script=$root/bench/pytorch/resnet20_fmnist.py
if [[ $run_resnetc == 1 && ! -x $resnetc ]]; then
  echo "train_fmnist.sh: $resnetc is missing: build resnetc first: ./scripts/test.sh or cmake --build build" >&2
  exit 1
fi
if [[ $run_pytorch == 1 ]] && ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "train_fmnist.sh: $python cannot import torch and numpy (Debian: apt-get install python3-torch python3-numpy)" >&2
  exit 1
fi
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -e $data/$f.gz || -e $data/$f ]] || { echo "train_fmnist.sh: no ${f}[.gz] in $data" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# /usr/bin/time -v gives the peak RSS (of the largest process of the tree: for
# resnetc that may be a kernel generator or the linker of its compile step).
timer=()
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
  timer=(/usr/bin/time -v)
fi

run_timed() { # NAME COMMAND...: stdout and stderr to OUT/NAME.log (and the terminal)
  local name=$1; shift
  rm -f "$out/$name.time"
  local rc=0
  if [[ ${#timer[@]} -gt 0 ]]; then
    "${timer[@]}" -o "$out/$name.time" "$@" 2>&1 | tee "$out/$name.log" || rc=$?
  else
    "$@" 2>&1 | tee "$out/$name.log" || rc=$?
  fi
  if [[ $rc != 0 ]]; then
    echo "train_fmnist.sh: the $name run failed (exit $rc): see $out/$name.log" >&2
    exit 1
  fi
}

recipe="epochs $epochs, batch 128, lr 0.1, multistep 0.5,0.75, pad4,crop,flip, $threads threads"
for seed in $seeds; do
  if [[ $run_resnetc == 1 ]]; then
    echo "== resnetc: $recipe, seed $seed"
    rm -rf "$out/resnetc-s$seed" # resnetc refuses to overwrite a run
    run_timed "resnetc-s$seed" "$resnetc" train "$root/examples/models/resnet20_fmnist.rn" \
      --data "fashion-mnist:$data" --epochs "$epochs" --batch 128 --lr 0.1 \
      --schedule multistep:0.5,0.75 --augment pad4,crop,flip --threads "$threads" --seed "$seed" \
      --checkpoint-dir "$out/resnetc-s$seed" --no-progress
  fi
  if [[ $run_pytorch == 1 ]]; then
    echo "== PyTorch: $recipe, seed $seed"
    run_timed "pytorch-s$seed" "$python" "$script" --data "$data" --epochs "$epochs" --batch 128 \
      --lr 0.1 --schedule multistep:0.5,0.75 --augment --threads "$threads" --seed "$seed" \
      --csv "$out/pytorch-s$seed-metrics.csv"
  fi
  for f in "$out/resnetc-s$seed/metrics.csv" "$out/pytorch-s$seed-metrics.csv"; do
    [[ -s $f ]] || { echo "train_fmnist.sh: no $f: run without --skip-*" >&2; exit 1; }
  done
done
rcsv=$out/resnetc-s$first_seed/metrics.csv pcsv=$out/pytorch-s$first_seed-metrics.csv

peak() { # NAME: the trainer's own peak RSS line (its process alone), else /usr/bin/time's, else n/a
  local mib=""
  if [[ -s $out/$1.log ]]; then
    mib=$(awk '/^peak memory [0-9]+ MiB/ { m = $3 } END { if (m != "") print m }' "$out/$1.log")
  fi
  if [[ -z $mib && -s $out/$1.time ]]; then
    mib=$(awk -F': *' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out/$1.time")
  fi
  echo "${mib:-n/a}"
}
wall() { # NAME: the whole run's wall-clock time from /usr/bin/time, else n/a
  local t=""
  [[ -s $out/$1.time ]] && t=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$out/$1.time")
  echo "${t:-n/a}"
}

echo
echo "== ResNet-20 on Fashion-MNIST: $recipe, seed $first_seed"
awk -F, -v rpeak="$(peak "resnetc-s$first_seed")" -v ppeak="$(peak "pytorch-s$first_seed")" \
    -v rwall="$(wall "resnetc-s$first_seed")" -v pwall="$(wall "pytorch-s$first_seed")" '
  FNR == 1 { next } # the header
  FILENAME == ARGV[1] { racc[$1] = $6; rsec[$1] = $7; rn = $1 > rn ? $1 : rn; next }
  { pacc[$1] = $6; psec[$1] = $7; pn = $1 > pn ? $1 : pn }
  END {
    n = rn > pn ? rn : pn
    printf "%5s  %14s %14s  %11s %11s\n", "epoch", "resnetc test", "PyTorch test", "resnetc s", "PyTorch s"
    for (e = 1; e <= n; ++e) {
      printf "%5d  %13s%% %13s%%  %11s %11s\n", e,
             (e in racc) ? sprintf("%.2f", 100 * racc[e]) : "-", (e in pacc) ? sprintf("%.2f", 100 * pacc[e]) : "-",
             (e in rsec) ? sprintf("%.1f", rsec[e]) : "-", (e in psec) ? sprintf("%.1f", psec[e]) : "-"
      if (e in rsec) { rs += rsec[e]; rc++; if (e > 1) { rs2 += rsec[e]; rc2++ } }
      if (e in psec) { ps += psec[e]; pc++; if (e > 1) { ps2 += psec[e]; pc2++ } }
    }
    print ""
    printf "final test accuracy   resnetc %.2f%%   PyTorch %.2f%%   difference (PyTorch - resnetc) %+.2f points\n",
           100 * racc[rn], 100 * pacc[pn], 100 * (pacc[pn] - racc[rn])
    if (rn != pn) printf "warning: resnetc ran %d epochs, PyTorch %d\n", rn, pn
    printf "mean seconds an epoch resnetc %.1f   PyTorch %.1f   ratio PyTorch/resnetc %.2f\n",
           rs / rc, ps / pc, (ps / pc) / (rs / rc)
    if (rc2 > 0 && pc2 > 0)
      printf "  without epoch 1     resnetc %.1f   PyTorch %.1f   ratio PyTorch/resnetc %.2f\n",
             rs2 / rc2, ps2 / pc2, (ps2 / pc2) / (rs2 / rc2)
    printf "peak memory (MiB)     resnetc %s   PyTorch %s\n", rpeak, ppeak
    printf "whole run (wall)      resnetc %s   PyTorch %s   (resnetc: includes compiling the model)\n", rwall, pwall
  }' "$rcsv" "$pcsv" | tee "$out/summary.txt"

# The final test accuracy of every seed: mean and sample standard deviation.
finals() { # FILE...: the last row's test accuracy (%) of each
  for f in "$@"; do awk -F, 'END { printf "%.2f ", 100 * $6 }' "$f"; done
}
rfiles=() pfiles=()
for seed in $seeds; do
  rfiles+=("$out/resnetc-s$seed/metrics.csv")
  pfiles+=("$out/pytorch-s$seed-metrics.csv")
done
rfinals=$(finals "${rfiles[@]}")
pfinals=$(finals "${pfiles[@]}")
awk -v seeds="$seeds" -v r="$rfinals" -v p="$pfinals" '
  function stats(text, name,   v, n, i, mean, ss) {
    n = split(text, v, " ")
    for (i = 1; i <= n; ++i) mean += v[i]
    mean /= n
    for (i = 1; i <= n; ++i) ss += (v[i] - mean) ^ 2
    if (n > 1) printf "%-8s %s   mean %.2f%%  std %.2f (over %d seeds)\n", name, text, mean, sqrt(ss / (n - 1)), n
    else printf "%-8s %s   (one seed: give --seeds \"1 2 3\" for a spread)\n", name, text
  }
  BEGIN {
    print ""
    print "final test accuracy (%) per seed: " seeds
    stats(r, "resnetc"); stats(p, "PyTorch")
  }' | tee -a "$out/summary.txt"
echo "logs and metrics in $out"
