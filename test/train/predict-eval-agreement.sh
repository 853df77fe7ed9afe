#!/usr/bin/env bash
# resnetc eval and resnetc predict agree with resnetc train: ResNet-20 is
# trained briefly on Fashion-MNIST; eval on final.rnw must print the test
# accuracy of the trainer's last line, and predict on 100 PNG files written
# from the test set must get as many right as eval on those 100 images.
set -euo pipefail
resnetc=$1 source=$2 cache=$3
data=/usr/share/datasets/fashion-mnist
model=$source/examples/models/resnet20_fmnist.rn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Well above chance, so that inputs fed wrongly (not normalised, resized
# or transposed) would change the answers.
"$resnetc" train "$model" --batch 64 --cache-dir "$cache" --epochs 2 --train-images 4096 \
  --test-images 500 --lr 0.1 --schedule constant --threads 2 --seed 5 --no-progress \
  --expect-accuracy 0.6 --checkpoint-dir "$work/run" | tee "$work/train.log"
trained=$(awk '$1 == "test" && $2 == "accuracy" {print $3}' "$work/train.log")
test -n "$trained"

run_eval() {
  "$resnetc" eval "$work/run/final.rnw" --model "$model" --data "fashion-mnist:$data" \
    --cache-dir "$cache" --threads 2 "$@"
}
run_eval --test-images 500 | tee "$work/eval.log"
evaluated=$(awk '$1 == "test" && $2 == "accuracy" {print $3}' "$work/eval.log")
if [ "$evaluated" != "$trained" ]; then
  echo "resnetc eval: test accuracy $evaluated, resnetc train's final line says $trained" >&2
  exit 1
fi

# The first 100 test images as 8-bit gray PNGs, and their labels.
python3 - "$data" "$work/images" <<'PYTHON'
import gzip, os, struct, sys, zlib
data, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
with gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")) as f:
    magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
    pixels = f.read(100 * rows * cols)
with gzip.open(os.path.join(data, "t10k-labels-idx1-ubyte.gz")) as f:
    f.read(8)
    labels = f.read(100)
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
with open(os.path.join(out, "labels.txt"), "w") as names:
    for i in range(100):
        image = pixels[i * rows * cols:(i + 1) * rows * cols]
        raw = b"".join(b"\0" + image[y * cols:(y + 1) * cols] for y in range(rows))
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        path = os.path.join(out, "test%03d.png" % i)
        with open(path, "wb") as f:
            f.write(png)
        names.write("%s %d\n" % (path, labels[i]))
PYTHON

cut -d' ' -f1 "$work/images/labels.txt" > "$work/images/list.txt"
xargs "$resnetc" predict "$work/run/final.rnw" --model "$model" --cache-dir "$cache" --threads 2 \
  --top 3 < "$work/images/list.txt" > "$work/predict.log"
head -3 "$work/predict.log"
test "$(wc -l < "$work/predict.log")" -eq 100
# "path: 6 shirt 81.2%, ..." against "path 6".
predicted=$(awk 'NR == FNR { label[$1 ":"] = $2; next } $2 == label[$1] { right++ }
                 END { print right + 0 }' "$work/images/labels.txt" "$work/predict.log")
# The library compiled by the first eval (or predict) is reused.
run_eval --test-images 100 2> "$work/eval100.err" | tee "$work/eval100.log"
if grep -q "compiling" "$work/eval100.err"; then
  echo "resnetc eval compiled the library again:" >&2
  cat "$work/eval100.err" >&2
  exit 1
fi
expected=$(sed -n 's/^test accuracy .* (\([0-9]*\) of 100 images)$/\1/p' "$work/eval100.log")
if [ "$predicted" != "$expected" ]; then
  echo "resnetc predict got $predicted of 100 PNGs right, resnetc eval $expected of those images" >&2
  exit 1
fi

# Multi-scale testing and ensembles average class probabilities: the
# network's own size given as a scale, or an ensemble of one network twice,
# must score exactly as plain eval; at 32x32 the same weights must load into
# the network compiled for that size and score well above chance.
accuracy_of() { awk '$1 == "test" && $2 == "accuracy" {print $3}' "$1"; }
run_eval --test-images 500 --scales 28 | tee "$work/scale28.log"
twice="$work/run/final.rnw:$model,$work/run/final.rnw:$model"
"$resnetc" eval --ensemble "$twice" --data "fashion-mnist:$data" --cache-dir "$cache" \
  --threads 2 --test-images 500 | tee "$work/ensemble.log"
for log in scale28 ensemble; do
  if [ "$(accuracy_of "$work/$log.log")" != "$trained" ]; then
    echo "resnetc eval ($log) says $(accuracy_of "$work/$log.log"), plain eval $trained" >&2
    exit 1
  fi
done
grep -q "ensemble of 2" "$work/ensemble.log"
run_eval --test-images 500 --scales 28,32 | tee "$work/scales.log"
grep -q "at 28x28: $trained" "$work/scales.log"
at32=$(sed -n 's/.* at 32x32: \([0-9.]*\)%$/\1/p' "$work/scales.log")
awk -v a="$at32" 'BEGIN { exit !(a > 40) }' || { echo "32x32 scored $at32%" >&2; exit 1; }
grep -q "2 scales" "$work/scales.log"

echo "predict and eval agree with train: test accuracy $trained; $predicted of 100 PNGs right;" \
  "--scales and --ensemble agree with it"
