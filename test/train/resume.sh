#!/usr/bin/env bash
# Stopping in the middle of an epoch (and at an epoch's end) and resuming from
# the checkpoint gives the same weights, byte for byte, and the same losses as
# training without a stop; metrics.csv holds each epoch once.
set -euo pipefail
resnetc=$1 source=$2 cache=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
train() {
  "$resnetc" train "$source/examples/models/resnet20_fmnist.rn" --batch 64 --cache-dir "$cache" \
    --train-images 1024 --test-images 256 --schedule multistep --augment pad4,crop,flip \
    --threads 2 --seed 5 --lr 0.05 "$@"
}
train --epochs 2 --checkpoint-dir "$work/straight" > "$work/straight.txt"
loss() { awk -v e="$2" '$1 == "epoch" && $2 == e {print $6}' "$1"; }

# 16 steps an epoch: stop at step 21 (inside epoch 2), resume.
train --epochs 2 --checkpoint-dir "$work/mid" --stop-after 21 > "$work/mid1.txt"
grep -q "stopped after step 21" "$work/mid1.txt"
train --epochs 2 --checkpoint-dir "$work/mid" --resume > "$work/mid2.txt"
grep -q "resuming epoch 2 at step 5" "$work/mid2.txt"
cmp "$work/straight/final.rnw" "$work/mid/final.rnw"
test "$(loss "$work/straight.txt" 1)" = "$(loss "$work/mid1.txt" 1)"
test "$(loss "$work/straight.txt" 2)" = "$(loss "$work/mid2.txt" 2)"
test "$(wc -l < "$work/mid/metrics.csv")" -eq 3

# A finished run is not resumed, nor one with other options (without --force).
if train --epochs 2 --checkpoint-dir "$work/straight" --resume 2> "$work/finished.err"; then
  echo "--resume trained a finished run on" >&2
  exit 1
fi
grep -q "is finished (2 epochs)" "$work/finished.err"

# Stop at the end of epoch 1, resume.
train --epochs 2 --checkpoint-dir "$work/edge" --stop-after 16 > "$work/edge1.txt"
if train --epochs 3 --train-images 512 --checkpoint-dir "$work/edge" --resume \
    2> "$work/changed.err"; then
  echo "--resume went on with other options" >&2
  exit 1
fi
grep -q "was started differently: --train-images 512 (the run's train_images: 1024), --epochs 3 (the run's epochs: 2)" \
  "$work/changed.err"
train --epochs 2 --checkpoint-dir "$work/edge" --resume > "$work/edge2.txt"
grep -q "resuming epoch 2 at step 0" "$work/edge2.txt"
cmp "$work/straight/final.rnw" "$work/edge/final.rnw"
cut -d, -f1-6 "$work/straight/metrics.csv" > "$work/a.csv"
cut -d, -f1-6 "$work/edge/metrics.csv" > "$work/b.csv"
cmp "$work/a.csv" "$work/b.csv"
echo "resume: identical weights and losses ($(loss "$work/straight.txt" 2))"

# A diverging learning rate: training stops at the first non-finite loss with
# a message naming the step, and the last good checkpoint is kept as it was.
cp "$work/edge/checkpoint.rnw" "$work/before.rnw"
if train --epochs 4 --lr 1e30 --checkpoint-dir "$work/edge" --resume --force \
    > "$work/diverged.txt" 2> "$work/diverged.err"; then
  echo "training went on with a non-finite loss" >&2
  exit 1
fi
grep -q "the loss is not finite at epoch 3, step" "$work/diverged.err"
cmp "$work/edge/checkpoint.rnw" "$work/before.rnw"
echo "divergence: stopped, checkpoint kept"
