#!/usr/bin/env bash
# Stopping after an epoch and resuming from the checkpoint gives the same
# weights, byte for byte, and the same losses as training without a stop.
set -euo pipefail
trainer=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--train-images 1024 --test-images 256 --lr 0.05 --schedule constant --threads 2 --seed 5)
"$trainer" "${common[@]}" --epochs 2 --out "$work/straight.rnw" > "$work/straight.txt"
"$trainer" "${common[@]}" --epochs 1 --checkpoint "$work/state.ckpt" > "$work/first.txt"
"$trainer" "${common[@]}" --epochs 2 --checkpoint "$work/state.ckpt" --resume \
  --out "$work/resumed.rnw" > "$work/second.txt"
cmp "$work/straight.rnw" "$work/resumed.rnw"
loss() { awk -v e="$2" '$1 == "epoch" && $2 == e {print $6}' "$1"; }
test "$(loss "$work/straight.txt" 1)" = "$(loss "$work/first.txt" 1)"
test "$(loss "$work/straight.txt" 2)" = "$(loss "$work/second.txt" 2)"
grep -q "resuming after epoch 1" "$work/second.txt"
echo "resume: identical weights and losses ($(loss "$work/straight.txt" 2))"
