#!/usr/bin/env bash
# Crash safety: a run is killed with SIGKILL KILLS times (default 50), resumed
# after each kill, and finally run to its end. Every other kill waits for a
# save in progress (a temporary file next to the checkpoint) and strikes
# then; the others come at random moments. The latest complete checkpoint
# must always load, and the result must equal an uninterrupted run: the same
# final weights, byte for byte, and the same metrics.
set -euo pipefail
trainer=$1 kills=${2:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--train-images 2048 --test-images 128 --epochs 6 --lr 0.05 --schedule multistep
      --augment pad4,crop,flip --threads 2 --seed 11 --checkpoint-every 1 --quiet)
"$trainer" "${args[@]}" --checkpoint-dir "$work/straight" > /dev/null

RANDOM=7 # the random moments are reproducible
run=$work/killed survived=0 during_save=0
saving() { compgen -G "$run/*.tmp.*" > /dev/null; }
for ((i = 1; i <= kills; ++i)); do
  resume=()
  [[ -e $run/checkpoint.rnw ]] && resume=(--resume)
  "$trainer" "${args[@]}" --checkpoint-dir "$run" "${resume[@]}" > "$work/log" 2>&1 &
  pid=$!
  if ((i % 2 == 0)); then
    # Wait (up to 5 s) for a save in progress. The trainer removes stale
    # temporary files when it starts, so wait for that first.
    sleep 0.3
    for ((spin = 0; spin < 200000; ++spin)); do
      saving && break
      kill -0 "$pid" 2>/dev/null || break
    done
  else
    sleep "0.$(printf '%03d' $((200 + RANDOM % 700)))"
  fi
  if ! kill -9 "$pid" 2>/dev/null; then
    wait "$pid" || { cat "$work/log" >&2; echo "run $i failed" >&2; exit 1; }
    echo "the run ended after $survived kills; make it longer" >&2
    exit 1
  fi
  wait "$pid" 2>/dev/null || true
  survived=$((survived + 1))
  if saving; then # a temporary file left behind: the kill interrupted a save
    during_save=$((during_save + 1))
  fi
done
"$trainer" "${args[@]}" --checkpoint-dir "$run" --resume > "$work/log" 2>&1 ||
  { cat "$work/log" >&2; exit 1; }
cmp "$work/straight/final.rnw" "$run/final.rnw"
cmp <(cut -d, -f1-6 "$work/straight/metrics.csv") <(cut -d, -f1-6 "$run/metrics.csv")
if saving; then
  echo "temporary files were left behind" >&2
  exit 1
fi
echo "killed $survived times (SIGKILL; $during_save while saving), resumed each time:" \
  "same weights and metrics as an uninterrupted run"
