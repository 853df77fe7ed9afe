#!/usr/bin/env bash
# examples/train cross-compiled for AArch64, under qemu: one short epoch on 64
# Fashion-MNIST images (gunzipped here: the target build has no zlib), with a
# checkpoint. The loss must be finite and the files written.
set -euo pipefail
qemu=$1 trainer=$2
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ -e $data/$f.gz ]]; then gunzip -c "$data/$f.gz" > "$work/$f"; else cp "$data/$f" "$work/$f"; fi
done
"$qemu" "$trainer" --data "fashion-mnist:$work" --epochs 1 --train-images 64 --test-images 32 \
  --lr 0.05 --schedule constant --threads 2 --checkpoint-dir "$work/run" --quiet | tee "$work/log"
grep -Eq "^epoch  1  lr 0.0500  loss [0-9]+\.[0-9]+ " "$work/log"
test -s "$work/run/checkpoint.rnw"
test -s "$work/run/final.rnw"
echo "AArch64 example trainer: ok"
