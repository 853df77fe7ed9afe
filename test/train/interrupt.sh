#!/usr/bin/env bash
# Ctrl-C while training: the run finishes its step, saves a checkpoint
# atomically, says where, and exits 130 (SIGTERM: 143); a second Ctrl-C
# quits at once. Resumed after each, the run ends with the same weights, byte
# for byte, as a run never interrupted.
set -euo pipefail
trainer=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--train-images 1024 --test-images 128 --epochs 6 --lr 0.05 --threads 2 --seed 5 --quiet)
"$trainer" "${args[@]}" --checkpoint-dir "$work/straight" > /dev/null

run=$work/run
fail() { cat "$work/err" >&2; echo "interrupt.sh: $*" >&2; exit 1; }
# signals...: starts (or resumes) the run, sends them once it trains, and
# leaves its exit status in $status.
interrupt() {
  local resume=()
  [[ -e $run/checkpoint.rnw ]] && resume=(--resume)
  "$trainer" "${args[@]}" --checkpoint-dir "$run" "${resume[@]}" > "$work/out" 2> "$work/err" &
  local pid=$! i
  for ((i = 0; i < 600; ++i)); do
    grep -q '^training ' "$work/out" && break
    sleep 0.1
  done
  sleep 0.5
  for signal in "$@"; do
    kill -s "$signal" "$pid" 2>/dev/null || fail "the run ended before SIG$signal: make it longer"
  done
  status=0
  wait "$pid" || status=$?
}

interrupt INT
[[ $status == 130 ]] || fail "exit status $status after SIGINT, expected 130"
grep -Eq "stopped by SIGINT after step [1-9][0-9]* \(epoch [0-9]+\): saved $run/checkpoint.rnw; continue the run with --resume" \
  "$work/err" || fail "no 'stopped by SIGINT ... saved' message"

interrupt TERM
[[ $status == 143 ]] || fail "exit status $status after SIGTERM, expected 143"
grep -q "stopped by SIGTERM after step" "$work/err" || fail "no 'stopped by SIGTERM' message"

# Twice: the second quits at once, and the last complete checkpoint stays.
interrupt INT INT
[[ $status == 130 ]] || fail "exit status $status after two SIGINTs, expected 130"

"$trainer" "${args[@]}" --checkpoint-dir "$run" --resume > /dev/null 2> "$work/err" ||
  fail "resuming after the interruptions failed"
cmp "$work/straight/final.rnw" "$run/final.rnw" ||
  fail "the interrupted and resumed run differs from the straight one"
echo "interrupt.sh: SIGINT, SIGTERM and a double SIGINT stopped the run; resumed, it equals the straight run"
