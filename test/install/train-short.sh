#!/usr/bin/env bash
# The short training run of CI: ResNet-20 on 4096 Fashion-MNIST images for
# two epochs. The loss must fall and the test accuracy must beat chance (10%)
# by a wide margin.
set -euo pipefail
trainer=$1
out=$(mktemp)
trap 'rm -f "$out" "$out.rnw"' EXIT
"$trainer" --epochs 2 --train-images 4096 --test-images 1024 --lr 0.1 --schedule constant \
  --threads 2 --seed 3 --out "$out.rnw" --expect-accuracy 0.6 | tee "$out"
first=$(awk '/^epoch  1 /{print $6}' "$out")
second=$(awk '/^epoch  2 /{print $6}' "$out")
awk -v a="$first" -v b="$second" 'BEGIN { if (!(b < a)) { print "the loss did not fall: " a " -> " b; exit 1 } }'
test -s "$out.rnw"
echo "short training: ok (loss $first -> $second)"
