# Shared by the data-parallel tests: the tools, a scratch folder, mpirun
# with the flags a CI container needs, and a short run of ResNet-20 on
# Fashion-MNIST. Sourced with: resnetc compare reference source cache.
set -euo pipefail
resnetc=$1 compare=$2 reference=$3 source=$4 cache=$5
command -v mpirun > /dev/null || { echo "mpirun is not installed: skipped"; exit 77; }
data=${RESNETC_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
test -d "$data" || { echo "no Fashion-MNIST in $data: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=$source/examples/models/resnet20_fmnist.rn
mpi=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
# `resnetc train` with the tests' settings (global batch 64, a constant
# rate, no augmentation), the caller adding the rest: alone, or as N ranks.
common=(train "$model" --data "fashion-mnist:$data" --batch 64 --cache-dir "$cache"
        --test-images 128 --schedule constant --no-progress)
train() { "$resnetc" "${common[@]}" "$@"; }
ranks() { local n=$1; shift; "${mpi[@]}" -np "$n" "$resnetc" "${common[@]}" "$@"; }
