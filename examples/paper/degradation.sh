#!/usr/bin/env bash
# The degradation experiment (He et al., Fig. 6 and Table 6) on Fashion-MNIST:
# plain-N and ResNet-N trained by resnetc with the paper's CIFAR recipe scaled
# to the data set (docs/paper.md), then the training and test error curves
# (fig6.svg) and a table (table.md). Each run resumes where it stopped: run the
# script again after an interruption and it goes on by net and by epoch.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: examples/paper/degradation.sh [--epochs 12] [--depths "20 32 44 56"] [--seeds "1"]
           [--kinds "plain resnet"] [--threads 2] [--runs DIR] [--out DIR] [--data DIR]

  --epochs N     epochs of each run (default 12); the learning rate is divided
                 by 10 at 50% and 75% of them, as the paper's 32k and 48k of 64k steps
  --depths LIST  depths to train (default "20 32 44 56"; examples/models has
                 plain{20,32,44,56}_fmnist.rn and resnet{20,32,44,56,110}_fmnist.rn)
  --seeds LIST   seeds of each net (default "1"; the table gives mean and spread)
  --kinds LIST   plain, resnet or both (default both)
  --threads T    threads of the trainer (default 2)
  --runs DIR     the run folders (checkpoints, weights; default examples/paper/runs)
  --out DIR      figures, table and each run's metrics (default
                 examples/paper/results/degradation)
  --data DIR     the Fashion-MNIST files (default /usr/share/datasets/fashion-mnist)
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
script=degradation.sh
source "$root/examples/paper/recipe.sh"
depths="20 32 44 56" seeds=1 kinds="plain resnet" out=$root/examples/paper/results/degradation
while [[ $# -gt 0 ]]; do
  case $1 in
    --depths) depths=${2:?--depths needs a value}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --kinds) kinds=${2:?--kinds needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) [[ $# -ge 2 ]] && paper_option "$1" "$2" && shift 2 || unknown_argument "$1" ;;
  esac
done
check_paper_options
for kind in $kinds; do
  [[ $kind == plain || $kind == resnet ]] || { echo "degradation.sh: --kinds are plain and resnet, got '$kind'" >&2; exit 2; }
  for depth in $depths; do
    model=$root/examples/models/${kind}${depth}_fmnist.rn
    [[ -f $model ]] || { echo "degradation.sh: there is no $model" >&2; exit 2; }
  done
done
mkdir -p "$runs" "$out/metrics"

echo "kind,depth,seed,parameters,metrics" > "$out/runs.csv.tmp"
for seed in $seeds; do
  for depth in $depths; do
    for kind in $kinds; do
      net=${kind}${depth}
      model=$root/examples/models/${net}_fmnist.rn
      train_net "$net" "$seed"
      cp "$(run_dir "$net" "$seed")/metrics.csv" "$out/metrics/$net-s$seed.csv"
      parameters=$("$resnetc" stats "$model" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])')
      echo "$kind,$depth,$seed,$parameters,metrics/$net-s$seed.csv" >> "$out/runs.csv.tmp"
    done
  done
done
mv "$out/runs.csv.tmp" "$out/runs.csv"
python3 "$root/examples/paper/figures.py" degradation "$out"
echo "wrote $out/table.md and $out/fig6.svg"
cat "$out/table.md"
