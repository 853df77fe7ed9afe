#!/usr/bin/env bash
# A checkpoint made by two ranks resumes on one process with the same global
# batch: three steps on two ranks (--sync-bn) and three more alone give what
# six steps alone give (each trained tensor's change within 10%, as in
# numerics.sh), and the run continues at the step where it stopped.
source "$(dirname "$0")/common.sh"
steps=(--train-images 640 --epochs 1 --lr 0.01)

train "${steps[@]}" --stop-after 6 --threads 2 --checkpoint-dir "$work/straight" > /dev/null
ranks 2 "${steps[@]}" --stop-after 3 --threads 1 --sync-bn --checkpoint-dir "$work/split" \
  > "$work/first.txt"
grep -q "stopped after step 3" "$work/first.txt"
train "${steps[@]}" --stop-after 6 --threads 2 --checkpoint-dir "$work/split" --resume \
  > "$work/second.txt"
grep -q "resuming epoch 1 at step 3" "$work/second.txt"
grep -q "stopped after step 6" "$work/second.txt"
"$compare" "$work/straight/checkpoint.rnw" "$work/split/checkpoint.rnw" \
  --from "$work/straight/model/resnet20_fmnist.rnw" --skip momentum/ --relative 0.1
echo "resume: two ranks, then one process, as one process throughout"
