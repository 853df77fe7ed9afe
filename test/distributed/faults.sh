#!/usr/bin/env bash
# Faults of a data-parallel run:
#  - ranks that disagree (another seed, another model) are refused at start,
#    naming what differs; a global batch that does not split is refused;
#  - a rank killed with SIGKILL stops the others within seconds with a
#    message naming it; the checkpoint is intact and --resume continues.
source "$(dirname "$0")/common.sh"
steps=(--train-images 640 --epochs 1 --lr 0.01 --threads 1)

expect_refusal() { # file pattern
  grep -q "$2" "$1" || { echo "expected '$2' in:"; cat "$1"; exit 1; }
}
if "${mpi[@]}" -np 1 "$resnetc" "${common[@]}" "${steps[@]}" --seed 1 \
     --checkpoint-dir "$work/seeds" : \
   -np 1 "$resnetc" "${common[@]}" "${steps[@]}" --seed 2 --checkpoint-dir "$work/seeds" \
   > "$work/seeds.txt" 2>&1; then
  echo "ranks with different seeds were not refused"; exit 1
fi
expect_refusal "$work/seeds.txt" "rank 1: the ranks disagree: --seed is 2 here, 1 on rank 0"
test ! -e "$work/seeds/checkpoint.rnw"

if ranks 2 "${steps[@]}" --batch 63 --checkpoint-dir "$work/odd" > "$work/odd.txt" 2>&1; then
  echo "a batch of 63 was split over 2 ranks"; exit 1
fi
expect_refusal "$work/odd.txt" "does not split evenly over 2 ranks"

# SIGKILL to rank 1 in the middle of a run that checkpoints every 2 steps.
ranks 2 --train-images 3200 --epochs 4 --lr 0.01 --threads 1 --checkpoint-every 2 \
  --checkpoint-dir "$work/killed" > "$work/killed.txt" 2>&1 &
launcher=$!
for _ in $(seq 600); do
  [ -e "$work/killed/checkpoint.rnw" ] && break
  sleep 0.2
done
test -e "$work/killed/checkpoint.rnw"
victim=""
for pid in $(pgrep -f "checkpoint-dir $work/killed"); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then
    victim=$pid
  fi
done
test -n "$victim"
kill -9 "$victim"
killed_at=$(date +%s)
status=0
wait "$launcher" || status=$?
took=$(( $(date +%s) - killed_at ))
test "$status" -ne 0
test "$took" -le 30 || { echo "the other rank stopped $took s after the kill"; exit 1; }
expect_refusal "$work/killed.txt" "rank 1"
"$compare" "$work/killed/checkpoint.rnw" "$work/killed/checkpoint.rnw" --identical > /dev/null
ranks 2 --train-images 3200 --epochs 4 --lr 0.01 --threads 1 --checkpoint-every 2 \
  --checkpoint-dir "$work/killed" --resume --stop-after 60 > "$work/resumed.txt"
grep -q "resuming epoch" "$work/resumed.txt"
echo "faults: refusals named what differs; the killed run stopped in $took s and resumed"
