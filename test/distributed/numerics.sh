#!/usr/bin/env bash
# Data-parallel numerics: two ranks at a global batch of 64 against one
# process at 64, five SGD steps.
#  - With --sync-bn, each trained tensor's change from the initial weights
#    matches one process's within 10% (2-norm). Float sums in another order
#    and relu masks that flip on last-bit differences grow over the steps;
#    summing the ranks' gradients instead of averaging them, or leaving one
#    bucket out, is off by 50% and more.
#  - The ranks hold the same state, bit for bit, with or without --sync-bn.
#  - Without --sync-bn (per-rank statistics), the loss is finite and falls.
#  - One step of two ranks matches the reference executor's (double
#    precision) within 2%.
source "$(dirname "$0")/common.sh"
steps=(--train-images 640 --epochs 1 --stop-after 5 --lr 0.01)

train "${steps[@]}" --threads 2 --checkpoint-dir "$work/one" > "$work/one.txt"
# Small buckets: eleven allreduces, each started while the backward pass goes on.
ranks 2 "${steps[@]}" --threads 1 --sync-bn --every-rank-saves --allreduce-bucket-mb 0.1 \
  --checkpoint-dir "$work/sync" > "$work/sync.txt"
grep -q "data-parallel on 2 ranks: 32 images per rank and step" "$work/sync.txt"
"$compare" "$work/sync/checkpoint.rank0.rnw" "$work/sync/checkpoint.rank1.rnw" --identical
"$compare" "$work/one/checkpoint.rnw" "$work/sync/checkpoint.rnw" \
  --from "$work/one/model/resnet20_fmnist.rnw" --skip momentum/ --relative 0.1

# Per-rank batch statistics (the default): two epochs of 640 images.
ranks 2 --train-images 640 --epochs 2 --lr 0.05 --threads 1 --every-rank-saves \
  --checkpoint-dir "$work/local" > "$work/local.txt"
"$compare" "$work/local/checkpoint.rank0.rnw" "$work/local/checkpoint.rank1.rnw" --identical
loss() { awk -v e="$1" '$1 == "epoch" && $2 == e {print $6}' "$work/local.txt"; }
awk -v a="$(loss 1)" -v b="$(loss 2)" 'BEGIN { exit !(a == a + 0 && b < a) }'

# One step against the reference executor's, in double precision.
ranks 2 --train-images 640 --epochs 1 --stop-after 1 --lr 0.01 --threads 1 --sync-bn \
  --checkpoint-dir "$work/first" > /dev/null
"$reference" --model "$model" --weights "$work/first/model/resnet20_fmnist.rnw" \
  --data "fashion-mnist:$data" --batch 64 --train-images 640 --steps 1 --lr 0.01 --seed 0 \
  -o "$work/reference.rnw" > /dev/null
"$compare" "$work/reference.rnw" "$work/first/checkpoint.rnw" \
  --from "$work/first/model/resnet20_fmnist.rnw" --skip momentum/ --relative 0.02
echo "numerics: two ranks match one process and the reference; the ranks agree bit for bit;" \
  "loss $(loss 1) -> $(loss 2)"
