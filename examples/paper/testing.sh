#!/usr/bin/env bash
# The paper's testing methods (Sec. 3.4, Table 5) on the degradation run's
# nets: single-image, ten-crop and multi-scale fully-convolutional testing of
# one net, their combination, and an ensemble of the residual nets of several
# depths against the best of them alone. Writes DIR/table.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: examples/paper/testing.sh [--net resnet20] [--scales 24,28,32] [--ensemble "20 32 44 56"]
           [--epochs 12] [--seed 1] [--threads 2] [--runs DIR] [--out DIR] [--data DIR]

  --net NET        the net of the multi-scale and ten-crop rows (default resnet20)
  --scales LIST    input sizes of multi-scale testing (default 24,28,32)
  --ensemble LIST  depths of the ResNets to ensemble (default "20 32 44 56")
  --epochs N       the runs' length, as given to degradation.sh (default 12)
  --seed S         the runs' seed (default 1)
  --threads, --runs, --data as degradation.sh; --out (default
  examples/paper/results/testing)
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
script=testing.sh
source "$root/examples/paper/recipe.sh"
net=resnet20 scales=24,28,32 depths="20 32 44 56" seed=1 out=$root/examples/paper/results/testing
while [[ $# -gt 0 ]]; do
  case $1 in
    --net) net=${2:?--net needs a value}; shift 2 ;;
    --scales) scales=${2:?--scales needs a value}; shift 2 ;;
    --ensemble) depths=${2:?--ensemble needs a value}; shift 2 ;;
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) [[ $# -ge 2 ]] && paper_option "$1" "$2" && shift 2 || unknown_argument "$1" ;;
  esac
done
check_paper_options
weights() { # NET: the run's final weights, which degradation.sh makes
  local file
  file=$(run_dir "$1" "$seed")/final.rnw
  [[ -f $file ]] || { echo "$script: no $file: run examples/paper/degradation.sh --epochs $epochs first" >&2; exit 1; }
  echo "$file"
}
mkdir -p "$out"

evaluate() { # LABEL ARGS...: one row of the table
  local label=$1; shift
  echo "== $label" >&2
  local log
  log=$("$resnetc" eval --data "fashion-mnist:$data" --threads "$threads" "$@")
  echo "$log" >&2
  local accuracy
  accuracy=$(awk '$1 == "test" && $2 == "accuracy" { sub("%", "", $3); print $3 }' <<< "$log")
  printf '| %s | %s | %.2f |\n' "$label" "$accuracy" "$(awk -v a="$accuracy" 'BEGIN { print 100 - a }')" >> "$out/table.md.tmp"
}

name() { local n=${1/plain/plain-}; echo "${n/resnet/ResNet-}"; }
single=("$(weights "$net")" --model "$root/examples/models/${net}_fmnist.rn")
{
  echo "| testing | test accuracy (%) | test error (%) |"
  echo "|---|---|---|"
} > "$out/table.md.tmp"
evaluate "$(name "$net"), the single test image" "${single[@]}"
evaluate "$(name "$net"), ten crops" "${single[@]}" --ten-crop
evaluate "$(name "$net"), scales $scales" "${single[@]}" --scales "$scales"
evaluate "$(name "$net"), scales $scales, ten crops each" "${single[@]}" --scales "$scales" --ten-crop
members=()
for depth in $depths; do
  model=$root/examples/models/resnet${depth}_fmnist.rn
  evaluate "ResNet-$depth alone" "$(weights "resnet$depth")" --model "$model"
  members+=("$(weights "resnet$depth"):$model")
done
evaluate "ensemble of ResNet-${depths// /, -}" --ensemble "$(IFS=,; echo "${members[*]}")"
{
  echo
  echo "Fashion-MNIST test set (10,000 images), the runs of degradation.sh --epochs $epochs (seed $seed)."
  echo "Class probabilities (softmax) are averaged over crops, scales and networks."
} >> "$out/table.md.tmp"
mv "$out/table.md.tmp" "$out/table.md"
cat "$out/table.md"
