# The paper's CIFAR recipe (He et al., Sec. 4.2) scaled to Fashion-MNIST, and
# a resumable training run of one net with it; sourced by degradation.sh and
# responses.sh, with their shared options. Needs: root, script (the caller's name).
#
# Batch 128, lr 0.1 divided by 10 at 50% and 75% of the steps (the paper's
# 32k and 48k of 64k), momentum 0.9 and weight decay 1e-4 (resnetc's compiled
# defaults), 4-pixel padding, random crops and flips. ResNet-110 warms up at
# 0.01 until the training error is below 80%, as the paper's did.

resnetc=${RESNETC:-$root/build/bin/resnetc}
epochs=12 threads=2 runs=$root/examples/paper/runs data=/usr/share/datasets/fashion-mnist

# The options both scripts take: `paper_option NAME VALUE` sets one, or fails
# for another name.
paper_option() {
  case $1 in
    --epochs) epochs=${2:?--epochs needs a value} ;;
    --threads) threads=${2:?--threads needs a value} ;;
    --runs) runs=${2:?--runs needs a value} ;;
    --out) out=${2:?--out needs a value} ;;
    --data) data=${2:?--data needs a value} ;;
    *) return 1 ;;
  esac
}

# Refuses, with the caller's usage, an argument no option took.
unknown_argument() { # ARGUMENT
  echo "$script: unknown argument '$1'" >&2
  usage >&2
  exit 2
}

check_paper_options() {
  [[ $epochs =~ ^[1-9][0-9]*$ ]] || { echo "$script: --epochs must be a positive integer" >&2; exit 2; }
  [[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "$script: --threads must be a positive integer" >&2; exit 2; }
  [[ -x $resnetc ]] || { echo "$script: $resnetc is missing: build resnetc first (scripts/build.sh)" >&2; exit 1; }
}

# The run's folder names its epochs: a run of another length is another run.
run_dir() { # NET SEED
  echo "$runs/$1-e$epochs-s$2"
}

train_net() { # NET SEED: trains (or resumes, or skips when done) run_dir NET SEED
  local net=$1 seed=$2
  local model=$root/examples/models/${net}_fmnist.rn dir
  dir=$(run_dir "$net" "$seed")
  local recipe=(--batch 128 --lr 0.1 --schedule multistep:0.5,0.75 --augment pad4,crop,flip
                --epochs "$epochs" --threads "$threads" --data "fashion-mnist:$data"
                --no-progress --seed "$seed" --checkpoint-dir "$dir")
  [[ $net == *110 ]] && recipe+=(--warmup 0.01)
  if [[ -f $dir/final.rnw ]]; then
    echo "== $net, seed $seed: done ($dir/final.rnw)"
  elif [[ -f $dir/checkpoint.rnw ]]; then
    echo "== $net, seed $seed: resuming"
    "$resnetc" train "$model" "${recipe[@]}" --resume
  else
    echo "== $net, seed $seed: training $epochs epochs"
    "$resnetc" train "$model" "${recipe[@]}"
  fi
}
