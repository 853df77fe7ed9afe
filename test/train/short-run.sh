#!/usr/bin/env bash
# The short training run of CI, through `resnetc train`: ResNet-20 on 4096
# Fashion-MNIST images for two epochs. The loss must fall, the test accuracy
# must beat chance (10%) by a wide margin, and the run's folder must hold the
# checkpoint, the final weights, metrics.csv (a header and a row per epoch)
# and curves.svg. (After two epochs at a constant rate of 0.1 the test
# accuracy depends on the seed and on rounding: 47-73% over seeds 1-6, the
# loss 0.83-0.95; hence 45%.)
set -euo pipefail
resnetc=$1 source=$2 cache=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$resnetc" train "$source/examples/models/resnet20_fmnist.rn" --batch 64 --cache-dir "$cache" \
  --epochs 2 --train-images 4096 --test-images 1024 --lr 0.1 --schedule constant \
  --augment pad4,crop,flip --threads 2 --seed 3 --checkpoint-dir "$work/run" \
  --expect-accuracy 0.45 | tee "$work/log"
first=$(awk '$1 == "epoch" && $2 == 1 {print $6}' "$work/log")
second=$(awk '$1 == "epoch" && $2 == 2 {print $6}' "$work/log")
awk -v a="$first" -v b="$second" 'BEGIN { if (!(b < a)) { print "the loss did not fall: " a " -> " b; exit 1 } }'
test -s "$work/run/checkpoint.rnw"
test -s "$work/run/final.rnw"
test -s "$work/run/model/libresnet20_fmnist.a"
test "$(head -1 "$work/run/metrics.csv")" = \
  "epoch,steps,learning_rate,train_loss,train_accuracy,test_accuracy,seconds,images_per_second,test_loss"
test "$(wc -l < "$work/run/metrics.csv")" -eq 3
# Each step's loss and rate: a header and 2 x 64 rows.
test "$(head -1 "$work/run/steps.csv")" = "step,epoch,learning_rate,train_loss"
test "$(wc -l < "$work/run/steps.csv")" -eq 129
grep -q "^2,64,0.1," "$work/run/metrics.csv"
grep -q "<polyline" "$work/run/curves.svg"
tail -1 "$work/run/curves.svg" | grep -q "</svg>"

# The run's folder is not overwritten by a new run.
if "$resnetc" train "$source/examples/models/resnet20_fmnist.rn" --batch 64 --cache-dir "$cache" \
    --epochs 1 --train-images 256 --checkpoint-dir "$work/run" > /dev/null 2> "$work/err"; then
  echo "a second run overwrote the first one's folder" >&2
  exit 1
fi
grep -q "already holds a run's checkpoint" "$work/err"

# --validation 256: the last 256 of the 1024 images are held out and test
# each epoch; the test set is scored once, at the end.
"$resnetc" train "$source/examples/models/resnet20_fmnist.rn" --batch 64 --cache-dir "$cache" \
  --epochs 1 --train-images 1024 --validation 256 --test-images 512 --threads 2 --seed 3 \
  --no-progress --checkpoint-dir "$work/validated" | tee "$work/validated.log"
grep -q "^training resnet20_fmnist on 768 images .* testing on 512 at the end; each epoch on the 256 held-out images$" "$work/validated.log"
grep -q "^epoch  1 .* validation accuracy [0-9.]*%" "$work/validated.log"
grep -q "^validation accuracy [0-9.]*%$" "$work/validated.log"
grep -q "^test accuracy [0-9.]*%$" "$work/validated.log"
test "$(head -1 "$work/validated/metrics.csv")" = \
  "epoch,steps,learning_rate,train_loss,train_accuracy,validation_accuracy,seconds,images_per_second,validation_loss"
grep -q "validation accuracy %" "$work/validated/curves.svg"
test "$(head -1 "$work/validated/test.csv")" = "test_accuracy,test_loss"
tested=$(awk '$1 == "test" && $2 == "accuracy" {print $3}' "$work/validated.log")
awk -F, -v t="$tested" 'NR == 2 { exit !(sprintf("%.2f%%", 100 * $1) == t) }' "$work/validated/test.csv"
if "$resnetc" train "$source/examples/models/resnet20_fmnist.rn" --batch 64 --cache-dir "$cache" \
    --epochs 1 --train-images 1024 --validation 1024 > /dev/null 2> "$work/err"; then
  echo "--validation accepted holding out every training image" >&2
  exit 1
fi
grep -q "would hold out every one of the 1024 training images" "$work/err"
echo "short training: ok (loss $first -> $second); --validation ok"
