#!/usr/bin/env bash
# examples/train, a program that links a generated training library: one
# short epoch with ten-crop testing (padded 4), a checkpoint and final weights.
set -euo pipefail
trainer=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$trainer" --epochs 1 --train-images 1024 --test-images 200 --lr 0.05 --schedule constant \
  --augment pad4,crop,flip --ten-crop --threads 2 --seed 9 --checkpoint-dir "$work/run" \
  --out "$work/trained.rnw" --quiet | tee "$work/log"
grep -q "^epoch  1 " "$work/log"
grep -q "^test accuracy" "$work/log"
test -s "$work/trained.rnw"
test -s "$work/run/checkpoint.rnw"
# Ten-crop testing without padding has nothing to crop: a clear error.
if "$trainer" --epochs 1 --train-images 256 --test-images 64 --ten-crop --quiet \
    > /dev/null 2> "$work/err"; then
  echo "ten-crop without padding was accepted" >&2
  exit 1
fi
grep -q "ten-crop testing needs" "$work/err"
echo "example trainer: ok"
