#!/usr/bin/env bash
# The layer responses of He et al.'s Fig. 7 on Fashion-MNIST: the std of each
# 3x3 layer's output (after BN, before the ReLU or the addition) over the test
# set, for plain-20/56 and ResNet-20/56/110 trained with the degradation
# experiment's recipe (the runs of degradation.sh are reused; missing ones are
# trained, resumably). Writes DIR/<net>.csv (resnetc analyze responses) and
# DIR/fig7.svg: by layer, and sorted by magnitude.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: examples/paper/responses.sh [--nets "plain20 plain56 resnet20 resnet56 resnet110"]
           [--epochs 12] [--seed 1] [--threads 2] [--runs DIR] [--out DIR] [--data DIR]

  --nets LIST    the nets (default "plain20 plain56 resnet20 resnet56 resnet110")
  --epochs N     epochs of a net that has to be trained (default 12, as degradation.sh)
  --seed S       the run of each net to analyze (default 1)
  --threads T    threads (default 2)
  --runs DIR     the run folders (default examples/paper/runs, shared with degradation.sh)
  --out DIR      CSV files and fig7.svg (default examples/paper/results/responses)
  --data DIR     the Fashion-MNIST files (default /usr/share/datasets/fashion-mnist)
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
script=responses.sh
source "$root/examples/paper/recipe.sh"
nets="plain20 plain56 resnet20 resnet56 resnet110" seed=1 out=$root/examples/paper/results/responses
while [[ $# -gt 0 ]]; do
  case $1 in
    --nets) nets=${2:?--nets needs a value}; shift 2 ;;
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) [[ $# -ge 2 ]] && paper_option "$1" "$2" && shift 2 || unknown_argument "$1" ;;
  esac
done
check_paper_options
for net in $nets; do
  [[ -f $root/examples/models/${net}_fmnist.rn ]] ||
    { echo "responses.sh: there is no examples/models/${net}_fmnist.rn" >&2; exit 2; }
done
mkdir -p "$runs" "$out"

legend=()
for net in $nets; do
  train_net "$net" "$seed"
  "$resnetc" analyze responses "$(run_dir "$net" "$seed")/final.rnw" \
    --model "$root/examples/models/${net}_fmnist.rn" --data "fashion-mnist:$data" \
    --threads "$threads" -o "$out/$net.csv" --channels-output "$out/$net-channels.csv"
  name=${net/plain/plain-}
  name=${name/resnet/ResNet-}
  legend+=("$name=$net.csv")
done
python3 "$root/examples/paper/figures.py" responses "$out" "${legend[@]}"
echo "wrote $out/fig7.svg"
