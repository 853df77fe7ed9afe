#!/usr/bin/env bash
# Per-layer benchmark: every distinct conv kernel of ResNet-50 (3x224x224,
# batch 1) and ResNet-20 (3x32x32, batch 128), as resnetc compiles them, timed
# in oneDNN (bench/onednn_conv.cpp) and, where build/bin/resnetc-kernel-bench
# exists, in resnetc. For ResNet-20 also the convs of a training step: forward,
# backward-data and backward-weights. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/layers.sh [--threads "1 2"] [--runs 30] [--warmup 5] [--algorithms direct,auto]
                       [--models "resnet50:1 resnet20:128"] [--train-models "resnet20:128"]
                       [--peak-gflops 98]

  --threads LIST       thread counts to measure (default "1 2")
  --runs N             timed runs of each kernel (default 30)
  --warmup W           untimed runs before them (default 5)
  --algorithms LIST    oneDNN algorithms: direct, auto or both (default direct,auto)
  --models LIST        MODEL:BATCH pairs whose inference convs are measured
                       (examples/models/MODEL.rn; default "resnet50:1 resnet20:128")
  --train-models LIST  MODEL:BATCH pairs whose training-step convs (forward,
                       backward-data, backward-weights) are measured (default
                       "resnet20:128"; "" for none)
  --peak-gflops G      peak GFLOP/s of one core, for the fraction of peak (default 98)

The kernels are those of `resnetc compile MODEL.rn --batch B --emit=kernels`
(with --train for the training step): one row per distinct conv kernel (shape
and fused epilogue), with the number of calls in one pass. Each time is the
median of the runs; GFLOP/s counts 2*N*K*P*Q*C*R*S. The totals weight each
kernel by its calls.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RESNETC_BUILD_DIR:-$root/build}
thread_list="1 2" runs=30 warmup=5 algorithms=direct,auto peak=98
models="resnet50:1 resnet20:128" train_models="resnet20:128"
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) thread_list=${2:?--threads needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --warmup) warmup=${2:?--warmup needs a value}; shift 2 ;;
    --algorithms) algorithms=${2:?--algorithms needs a value}; shift 2 ;;
    --models) models=${2?--models needs a value}; shift 2 ;;
    --train-models) train_models=${2?--train-models needs a value}; shift 2 ;;
    --peak-gflops) peak=${2:?--peak-gflops needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "layers.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$runs" $thread_list; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "layers.sh: '$v' is not a positive integer" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "layers.sh: --warmup must be an integer" >&2; exit 2; }
[[ $algorithms =~ ^(direct|auto)(,(direct|auto))*$ ]] ||
  { echo "layers.sh: --algorithms is direct, auto or direct,auto" >&2; exit 2; }
for m in $models $train_models; do
  [[ $m =~ ^[A-Za-z0-9_]+:[1-9][0-9]*$ ]] ||
    { echo "layers.sh: '$m' is not MODEL:BATCH" >&2; exit 2; }
  [[ -f $root/examples/models/${m%%:*}.rn ]] ||
    { echo "layers.sh: there is no examples/models/${m%%:*}.rn" >&2; exit 2; }
done
IFS=, read -r -a algs <<<"$algorithms"

resnetc=$build/bin/resnetc
onednn=$build/bin/resnetc-bench-onednn-conv
kernel_bench=$build/bin/resnetc-kernel-bench
[[ -x $resnetc ]] || { echo "layers.sh: $resnetc is missing: build resnetc first (cmake --build build)" >&2; exit 1; }
have_onednn=1 have_kernel_bench=1
if [[ ! -x $onednn ]]; then
  have_onednn=0
  echo "oneDNN per-layer timing: not available ($onednn is not built: it needs oneDNN," \
       "Debian's libdnnl-dev, when CMake configures; then cmake --build build --target resnetc-bench-onednn-conv)"
fi
if [[ ! -x $kernel_bench ]]; then
  have_kernel_bench=0
  echo "resnetc per-layer timing: not available yet (needs resnetc-kernel-bench)"
fi
if [[ $have_onednn == 0 && $have_kernel_bench == 0 ]]; then
  echo "layers.sh: nothing to measure" >&2
  exit 1
fi
echo "runs $runs (after $warmup warm-up) per kernel; peak $peak GFLOP/s a core"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# kernel_rows MODEL BATCH SECTION [--train]: one line per conv kernel that
# SECTION ("forward" or "train") calls: `NAME SPEC CALLS FIRST_LAYER`, in the
# order of the kernel list.
kernel_rows() {
  local model=$1 batch=$2 section=$3; shift 3
  "$resnetc" compile "$root/examples/models/$model.rn" --batch "$batch" "$@" --emit=kernels -o - |
    awk -v want="$section" '
      /^[^ ]/ { section = $1; next }
      section == "kernels" && $2 ~ /^kind=conv2d(_grad_input|_grad_weight)?;/ {
        spec[$1] = $2; order[++n] = $1; next
      }
      section == want && ($1 in spec) {
        if (!calls[$1]++) { layer = $2; sub(/:$/, "", layer); first[$1] = layer }
      }
      END { for (i = 1; i <= n; ++i) if (calls[order[i]]) print order[i], spec[order[i]], calls[order[i]], first[order[i]] }'
}

field() { # SPEC KEY: the value of KEY in a key=value;... spec
  local s=";$1;"
  [[ $s == *";$2="* ]] || { echo ""; return; }
  s=${s#*;"$2"=}
  echo "${s%%;*}"
}

# The median of "PASS ALG: median X ms" in FILE, or n/a.
onednn_median() {
  local v
  v=$(sed -nE "s/^$2 $3: median ([0-9.]+) ms.*/\1/p" "$1" | tail -n 1)
  echo "${v:-n/a}"
}

# run_cached KEY COMMAND...: runs COMMAND once per KEY (a file name) and prints
# the path of its output.
run_cached() {
  local file=$tmp/$1; shift
  if [[ ! -f $file ]]; then
    if ! "$@" >"$file" 2>&1 </dev/null; then
      echo "layers.sh: '$*' failed:" >&2
      cat "$file" >&2
      echo "n/a" >"$file"
    fi
  fi
  echo "$file"
}

# measure_table MODEL BATCH SECTION THREADS [--train]: prints the table.
measure_table() {
  local model=$1 batch=$2 section=$3 t=$4; shift 4
  local rows m a
  rows=$(kernel_rows "$model" "$batch" "$section" "$@")
  if [[ -z $rows ]]; then
    echo "layers.sh: no conv kernels found for $model" >&2
    return 1
  fi
  local what="inference convs (BN folded into a bias; residual and ReLU fused as resnetc does)"
  [[ $section == train ]] && what="training-step convs (no bias; oneDNN without the residual and relu epilogues resnetc fuses into backward-data)"
  echo
  echo "== $model, batch $batch, $t thread(s): $what"
  printf '%-13s %-11s %-24s %-30s %-18s %8s %5s' kernel pass layer shape epilogue MFLOP calls
  for a in "${algs[@]}"; do printf ' %11s' "oneDNN $a"; done
  printf ' %8s %7s %10s %8s\n' GFLOP/s 'of peak' 'resnetc ms' 'vs oneDNN'

  local name spec calls layer totals_onednn=0 totals_resnetc=0 missing_onednn=0 missing_resnetc=0
  while read -r name spec calls layer; do
    local kind input weight strides padding n c h w k r s sh sw ph pw
    kind=$(field "$spec" kind)
    input=$(field "$spec" input) weight=$(field "$spec" weight)
    strides=$(field "$spec" strides) padding=$(field "$spec" padding)
    IFS=x read -r n c h w <<<"$input"
    IFS=x read -r k _ r s <<<"$weight"
    IFS=x read -r sh sw <<<"$strides"
    IFS=x read -r ph pw <<<"$padding"
    if [[ $sh != "$sw" || $ph != "$pw" ]]; then
      echo "layers.sh: $name: strides $strides, padding $padding: only square ones are measured" >&2
      continue
    fi
    local bias residual relu pass onednn_pass
    bias=$(field "$spec" bias) residual=$(field "$spec" residual) relu=$(field "$spec" relu)
    bias=${bias:-0} residual=${residual:-0} relu=${relu:-0}
    case $kind in
      conv2d) pass=forward onednn_pass=forward ;;
      conv2d_grad_input) pass=bwd-data onednn_pass=backward-data ;;
      conv2d_grad_weight) pass=bwd-weights onednn_pass=backward-weights ;;
    esac
    local epilogue=""
    [[ $bias == 1 ]] && epilogue+="+bias"
    [[ $residual == 1 ]] && epilogue+="+residual"
    [[ $relu == 1 ]] && epilogue+="+relu"
    epilogue=${epilogue#+}
    local p q flops
    p=$(((h + 2 * ph - r) / sh + 1)) q=$(((w + 2 * pw - s) / sw + 1))
    flops=$((2 * n * k * p * q * c * r * s))

    # oneDNN: the training tables run each shape once with --backward.
    local best_ms="n/a" medians=()
    if [[ $have_onednn == 1 ]]; then
      local args=(--n "$n" --c "$c" --h "$h" --w "$w" --k "$k" --r "$r" --s "$s"
                  --stride "$sh" --pad "$ph" --threads "$t" --runs "$runs" --warmup "$warmup"
                  --algorithms "$algorithms")
      local key="onednn-t$t-${input}-${weight}-${strides}-${padding}"
      if [[ $section == train ]]; then
        args+=(--backward)
        key+="-train"
      else
        args+=(--bias "$bias" --residual "$residual" --relu "$relu")
        key+="-b$bias$residual$relu"
      fi
      local out
      out=$(run_cached "$key" env OMP_NUM_THREADS="$t" "$onednn" "${args[@]}")
      for a in "${algs[@]}"; do
        m=$(onednn_median "$out" "$onednn_pass" "$a")
        medians+=("$m")
        if [[ $m != n/a ]] && { [[ $best_ms == n/a ]] || awk -v a="$m" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; }; then
          best_ms=$m
        fi
      done
    else
      for a in "${algs[@]}"; do medians+=("n/a"); done
    fi

    local resnetc_ms="n/a"
    if [[ $have_kernel_bench == 1 ]]; then
      local out
      out=$(run_cached "resnetc-t$t-$(tr -c 'A-Za-z0-9\n' _ <<<"$spec")" \
              "$kernel_bench" --spec "$spec" --threads "$t" --runs "$runs" --warmup "$warmup")
      resnetc_ms=$(sed -nE 's/^kernel: median ([0-9.]+) ms.*/\1/p' "$out" | tail -n 1)
      resnetc_ms=${resnetc_ms:-n/a}
    fi

    local shape="${n}x${c}x${h}x${w}>${k} ${r}x${s}/${sh} p${ph}"
    printf '%-13s %-11s %-24s %-30s %-18s %8.1f %5d' "$name" "$pass" "$layer" "$shape" \
      "${epilogue:--}" "$(awk -v f="$flops" 'BEGIN { print f / 1e6 }')" "$calls"
    for m in "${medians[@]}"; do printf ' %11s' "$m"; done
    awk -v f="$flops" -v best="$best_ms" -v mine="$resnetc_ms" -v t="$t" -v peak="$peak" 'BEGIN {
      if (best == "n/a") printf " %8s %7s", "-", "-"
      else printf " %8.1f %6.1f%%", f / best / 1e6, 100 * f / best / 1e6 / (t * peak)
      printf " %10s", mine
      if (best != "n/a" && mine != "n/a") printf " %7.2fx\n", mine / best; else printf " %8s\n", "-"
    }'
    if [[ $best_ms == n/a ]]; then
      missing_onednn=1
    else
      totals_onednn=$(awk -v s="$totals_onednn" -v m="$best_ms" -v c="$calls" 'BEGIN { print s + m * c }')
    fi
    if [[ $resnetc_ms == n/a ]]; then
      missing_resnetc=1
    else
      totals_resnetc=$(awk -v s="$totals_resnetc" -v m="$resnetc_ms" -v c="$calls" 'BEGIN { print s + m * c }')
    fi
  done <<<"$rows"

  local pass_name="one forward pass"
  [[ $section == train ]] && pass_name="one training step"
  printf 'total over %s (calls x median): oneDNN %s, resnetc %s\n' "$pass_name" \
    "$([[ $have_onednn == 1 && $missing_onednn == 0 ]] && printf '%.2f ms (best algorithm per kernel)' "$totals_onednn" || echo n/a)" \
    "$([[ $have_kernel_bench == 1 && $missing_resnetc == 0 ]] && printf '%.2f ms' "$totals_resnetc" || echo n/a)"
}

for t in $thread_list; do
  for m in $models; do
    measure_table "${m%%:*}" "${m##*:}" forward "$t"
  done
  for m in $train_models; do
    measure_table "${m%%:*}" "${m##*:}" train "$t" --train
  done
done
echo
echo "vs oneDNN: resnetc's median / oneDNN's faster algorithm's median (above 1: oneDNN is faster)"
[[ $have_kernel_bench == 1 ]] || echo "resnetc per-layer timing: not available yet (needs resnetc-kernel-bench)"
