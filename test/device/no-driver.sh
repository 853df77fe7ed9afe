#!/usr/bin/env bash
# A library compiled for CUDA builds and links without libcuda or nvcc; on a
# machine without the NVIDIA driver, loading weights or running returns
# RESNETC_ERROR_KERNEL (5) with Halide's CUDA message, and nothing aborts.
# Skipped (77) where a driver is installed: the GPU tests run there instead.
set -euo pipefail
resnetc=$1 source=$2 cache=$3
if /sbin/ldconfig -p 2>/dev/null | grep -q 'libcuda\.so' || [[ -e /dev/nvidiactl ]]; then
  echo "libcuda is installed here: the no-driver test does not apply"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$resnetc" compile "$source/examples/models/resnet20.rn" --target=x86-64-linux-cuda-cuda_capability_80 \
  --batch 2 --cache-dir "$cache" -o "$work/lib" --quiet
# shellcheck disable=SC2086 # CXXFLAGS: the flags of resnetc's build (sanitizers)
c++ -O1 ${CXXFLAGS:-} "$source/test/device/no_driver.cpp" -I"$work/lib" "$work/lib/libresnet20.a" -lpthread -ldl \
  -o "$work/app"
"$work/app" "$work/lib/resnet20.rnw" | tee "$work/out"
grep -Eiq "^status 5: .*cuda" "$work/out"
echo "CUDA without a driver: a status and a message"
