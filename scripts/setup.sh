#!/usr/bin/env bash
# Installs the Debian packages resnetc needs to build and test. Idempotent: it
# installs only what is missing, so a prepared machine pays nothing.
set -euo pipefail

packages=(
  cmake ninja-build ccache g++ python3
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libflatbuffers-dev flatbuffers-compiler libxxhash-dev zlib1g-dev
  libgtest-dev libgmock-dev
  libstb-dev                               # PNG and JPEG images (resnetc predict)
  libhalide14-0-dev
  dataset-fashion-mnist
  g++-aarch64-linux-gnu qemu-user-static   # the arm-64-linux target and its tests
  clang-22 libclang-rt-22-dev              # the front-end fuzzer (libFuzzer)
  pocl-opencl-icd ocl-icd-opencl-dev       # OpenCL on the CPU: the GPU runtime path, tested
  python3-torch python3-torchvision        # interchange tests against torchvision's ResNets
  libonnx-dev libprotobuf-dev python3-onnx  # ONNX import and export, and their tests
  libopenmpi-dev openmpi-bin               # data-parallel training (mpirun resnetc train)
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
