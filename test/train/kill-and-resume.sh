#!/usr/bin/env bash
# Crash safety: a run is killed with SIGKILL KILLS times (default 50), resumed
# after each kill, and finally run to its end. Every other kill waits for a
# save in progress (a temporary file next to the checkpoint) and strikes
# then; the others come at random moments while it trains. The latest
# complete checkpoint must always load, and the result must equal an
# uninterrupted run: the same final weights, byte for byte, and the same
# metrics.
set -euo pipefail
trainer=$1 kills=${2:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Ten epochs (160 steps): long enough that the kills all come before the end
# of the run (with six, faster training steps let it end after 48).
args=(--train-images 2048 --test-images 128 --epochs 10 --lr 0.05 --schedule multistep
      --augment pad4,crop,flip --threads 2 --seed 11 --checkpoint-every 1 --quiet)
"$trainer" "${args[@]}" --checkpoint-dir "$work/straight" > /dev/null

# The random moments are measured from this machine's own times: a run's
# first checkpoint (loading the data set, one step, one save) and a step.
# Fixed moments struck before the first save wherever loading takes longer
# than they allow, and then no checkpoint was ever written.
now() { echo "${EPOCHREALTIME/./}"; } # microseconds
calib=$work/calib t0=$(now)
"$trainer" "${args[@]}" --checkpoint-dir "$calib" --stop-after 1 > /dev/null
t1=$(now)
"$trainer" "${args[@]}" --checkpoint-dir "$calib" --resume --stop-after 4 > /dev/null
t2=$(now)
first=$((t1 - t0))
step=$(((t2 - t1 - first) / 2)) # the resumed run: loading and three steps
((step >= 10000)) || step=10000
seconds() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

RANDOM=7 # the random moments are reproducible
run=$work/killed survived=0 during_save=0
saving() { compgen -G "$run/*.tmp.*" > /dev/null; }
for ((i = 1; i <= kills; ++i)); do
  resume=()
  [[ -e $run/checkpoint.rnw ]] && resume=(--resume)
  "$trainer" "${args[@]}" --checkpoint-dir "$run" "${resume[@]}" > "$work/log" 2>&1 &
  pid=$!
  started=$(now)
  if ((i % 2 == 0)); then
    # Wait (up to 5 s past the first checkpoint's time) for a save in
    # progress. The trainer removes stale temporary files when it starts, so
    # wait for that first.
    sleep 0.3
    # (Builtins only: a poll must not fork, or it may miss a short save.)
    while ! saving && kill -0 "$pid" 2>/dev/null &&
      ((${EPOCHREALTIME/./} - started < first + 5000000)); do
      :
    done
  else
    # Up to three steps past the first checkpoint's time.
    sleep "$(seconds $((first + (RANDOM * 3 * step) / 32768)))"
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
