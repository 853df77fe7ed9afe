#!/usr/bin/env bash
# Compile time: `resnetc compile` of ResNet-50 (inference, batch 1) and of
# ResNet-20's training step (batch 128), cold (an empty kernel cache) and
# cached (the same command again, every kernel object in the cache), with the
# compiler's peak memory. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/compile_time.sh [--reps 2] [--jobs N] [--cases "resnet50:1 resnet20:128:train"]

  --reps R       cold and cached compiles of each case (default 2); the table
                 shows the median and the best
  --jobs N       resnetc -j (default: resnetc's, the number of cores)
  --cases LIST   MODEL:BATCH[:train] of examples/models/MODEL.rn

Cold: a fresh --cache-dir, so every Halide kernel is generated and compiled.
Cached: the same command with the cache the cold run filled.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
reps=2 jobs="" cases="resnet50:1 resnet20:128:train"
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=${2:?--reps needs a value}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a value}; shift 2 ;;
    --cases) cases=${2:?--cases needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compile_time.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "compile_time.sh: --reps must be a positive integer" >&2; exit 2; }
[[ -z $jobs || $jobs =~ ^[1-9][0-9]*$ ]] || { echo "compile_time.sh: --jobs must be a positive integer" >&2; exit 2; }
for c in $cases; do
  [[ $c =~ ^[A-Za-z0-9_]+:[1-9][0-9]*(:train)?$ && -f $root/examples/models/${c%%:*}.rn ]] ||
    { echo "compile_time.sh: '$c' is not MODEL:BATCH[:train] of an examples/models/MODEL.rn" >&2; exit 2; }
done
resnetc=$build/bin/resnetc
[[ -x $resnetc ]] || { echo "compile_time.sh: $resnetc is missing: build resnetc first" >&2; exit 1; }
[[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1 ||
  { echo "compile_time.sh: needs GNU time (Debian: apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compile_time.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# timed LOG COMMAND...: runs it under GNU time; prints "SECONDS MAX_RSS_MIB".
timed() {
  local log=$1; shift
  if ! /usr/bin/time -v -o "$log.time" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "compile_time.sh: '$*' failed" >&2
    exit 1
  fi
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i] }
              /Maximum resident set size/ { m = $2 / 1024 }
              END { printf "%.2f %.0f\n", s, m }' "$log.time"
}

echo "resnetc compile, $(nproc) cores${jobs:+, -j $jobs}; $reps runs of each"
printf '%-24s %-7s %10s %10s %12s\n' case cache 'median s' 'best s' 'peak MiB'
for c in $cases; do
  IFS=: read -r model batch train <<<"$c"
  args=(compile "$root/examples/models/$model.rn" --batch "$batch" --quiet)
  [[ $train == train ]] && args+=(--train)
  [[ -n $jobs ]] && args+=(-j "$jobs")
  cold=() cached=() mem_cold=0 mem_cached=0
  for ((r = 1; r <= reps; ++r)); do
    cache=$tmp/cache-$r out=$tmp/out-$r
    rm -rf "$cache" "$out"
    mkdir -p "$out"
    read -r s m < <(timed "$tmp/log" "$resnetc" "${args[@]}" --cache-dir "$cache" -o "$out")
    cold+=("$s"); ((m > mem_cold)) && mem_cold=$m
    read -r s m < <(timed "$tmp/log" "$resnetc" "${args[@]}" --cache-dir "$cache" -o "$out")
    cached+=("$s"); ((m > mem_cached)) && mem_cached=$m
  done
  stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%10.2f %10.2f", m, v[1] }'; }
  label="$model b$batch${train:+ $train}"
  printf '%-24s %-7s %s %12s\n' "$label" cold "$(stats "${cold[@]}")" "$mem_cold"
  printf '%-24s %-7s %s %12s\n' "$label" cached "$(stats "${cached[@]}")" "$mem_cached"
done
