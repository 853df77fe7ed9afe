# The paper's CIFAR recipe (He et al., Sec. 4.2) scaled to Fashion-MNIST, and
# a resumable training run of one net with it; sourced by degradation.sh and
# responses.sh. Needs: root, resnetc, epochs, threads, runs, data.
#
# Batch 128, lr 0.1 divided by 10 at 50% and 75% of the steps (the paper's
# 32k and 48k of 64k), momentum 0.9 and weight decay 1e-4 (resnetc's compiled
# defaults), 4-pixel padding, random crops and flips. ResNet-110 warms up at
# 0.01 until the training error is below 80%, as the paper's did.

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
