#!/usr/bin/env bash
# A full disk while saving: a run resumed under a file-size limit too small
# for a checkpoint (ulimit -f, as a full disk, fails the write) reports the
# write error and exits 1; the previous checkpoint is left exactly as it was,
# no temporary file remains, and the run resumes once there is space.
set -euo pipefail
trainer=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--train-images 256 --test-images 64 --lr 0.05 --schedule constant --threads 2 --seed 2 --quiet)
"$trainer" "${args[@]}" --epochs 1 --checkpoint-dir "$work/run" > /dev/null
cp "$work/run/checkpoint.rnw" "$work/before.rnw"
size_kib=$(( $(stat -c %s "$work/before.rnw") / 1024 / 2 ))
if (ulimit -f "$size_kib"; "$trainer" "${args[@]}" --epochs 2 --checkpoint-dir "$work/run" --resume --force) \
    > "$work/out" 2> "$work/err"; then
  echo "the run went on although its checkpoint could not be written" >&2
  exit 1
fi
cat "$work/err"
grep -Eq "cannot (write|flush|close) .*checkpoint\.rnw\.tmp\.[0-9]+.*(File too large|No space)" "$work/err"
cmp "$work/run/checkpoint.rnw" "$work/before.rnw"
if ls "$work/run" | grep -q '\.tmp\.'; then
  echo "a temporary file was left behind" >&2
  exit 1
fi
"$trainer" "${args[@]}" --epochs 2 --checkpoint-dir "$work/run" --resume --force > "$work/out"
grep -q "^epoch  2 " "$work/out"
echo "full disk: reported, previous checkpoint kept, resumed afterwards"
