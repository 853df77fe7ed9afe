#!/usr/bin/env bash
# Stopping after an epoch and resuming from the checkpoint gives the same
# weights, byte for byte, and the same losses as training without a stop.
set -euo pipefail
trainer=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--train-images 1024 --test-images 256 --schedule constant --threads 2 --seed 5)
"$trainer" "${common[@]}" --lr 0.05 --epochs 2 --out "$work/straight.rnw" > "$work/straight.txt"
"$trainer" "${common[@]}" --lr 0.05 --epochs 1 --checkpoint "$work/state.ckpt" > "$work/first.txt"
"$trainer" "${common[@]}" --lr 0.05 --epochs 2 --checkpoint "$work/state.ckpt" --resume \
  --out "$work/resumed.rnw" > "$work/second.txt"
cmp "$work/straight.rnw" "$work/resumed.rnw"
loss() { awk -v e="$2" '$1 == "epoch" && $2 == e {print $6}' "$1"; }
test "$(loss "$work/straight.txt" 1)" = "$(loss "$work/first.txt" 1)"
test "$(loss "$work/straight.txt" 2)" = "$(loss "$work/second.txt" 2)"
grep -q "resuming after epoch 1" "$work/second.txt"
echo "resume: identical weights and losses ($(loss "$work/straight.txt" 2))"

# A diverging learning rate: training stops at the first non-finite loss with
# a message naming the step, and the last good checkpoint is kept as it was.
cp "$work/state.ckpt" "$work/state.before"
if "$trainer" "${common[@]}" --lr 1e30 --epochs 3 --checkpoint "$work/state.ckpt" --resume \
    > "$work/diverged.txt" 2> "$work/diverged.err"; then
  echo "training went on with a non-finite loss" >&2
  exit 1
fi
grep -q "the loss is not finite at epoch 3, step" "$work/diverged.err"
cmp "$work/state.ckpt" "$work/state.before"
echo "divergence: stopped, checkpoint kept"
