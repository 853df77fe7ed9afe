#!/usr/bin/env bash
# resnetc analyze responses: the compiled probe (the network with its 3x3
# layers' responses as outputs) against the reference executor on the same
# images, layer by layer; 40 images in batches of 16, so that the padded last
# batch must not count.
set -euo pipefail
resnetc=$1 source=$2 cache=$3
data=/usr/share/datasets/fashion-mnist
model=$source/examples/models/resnet20_fmnist.rn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$resnetc" init "$model" --seed 3 -o "$work/w.rnw"
analyze() {
  "$resnetc" analyze responses "$work/w.rnw" --model "$model" --data "fashion-mnist:$data" \
    --cache-dir "$cache" --threads 2 --test-images 40 --batch 16 "$@"
}
analyze -o "$work/compiled.csv" --channels-output "$work/channels.csv"
analyze -o "$work/reference.csv" --reference
head -4 "$work/compiled.csv"

# ResNet-20: the stem's conv and 18 in the stages; 16 + 6x16 + 6x32 + 6x64 channels.
test "$(wc -l < "$work/compiled.csv")" -eq 20
test "$(wc -l < "$work/channels.csv")" -eq 689
grep -q "^1,stem.bn1,16,28,28," "$work/compiled.csv"
grep -q "^19,stage3.2.bn2,64,7,7," "$work/compiled.csv"

# Each layer's std and mean within 1e-4 of the reference's std (float
# kernels against double loops).
paste -d, "$work/compiled.csv" "$work/reference.csv" | awk -F, '
  NR > 1 {
    if ($2 != $10) { print "layer " $1 ": " $2 " against " $10; bad = 1 }
    scale = $15
    if (scale <= 0) { print "layer " $1 ": reference std " scale; bad = 1 }
    for (c = 6; c <= 8; c++) {
      d = $c - $(c + 8); if (d < 0) d = -d
      if (d > 1e-4 * scale) { print "layer " $1 " column " c ": " $c " against " $(c + 8); bad = 1 }
    }
  }
  END { exit bad }'
echo "analyze responses: 19 layers match the reference executor within 1e-4 of their std"
