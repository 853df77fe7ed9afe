#!/usr/bin/env bash
# Every member of a library compiled for arm-64-linux (orchestration, kernels,
# Halide runtime, resnetc runtime) is an AArch64 ELF object.
set -euo pipefail
archive=$1
readelf=$(command -v aarch64-linux-gnu-readelf || command -v readelf)
machines=$("$readelf" -h "$archive" | awk -F: '/Machine:/ { gsub(/^ +/, "", $2); print $2 }' | sort | uniq -c)
members=$(ar t "$archive" | wc -l)
echo "$members members:"
echo "$machines"
test "$(echo "$machines" | wc -l)" -eq 1
echo "$machines" | grep -q "AArch64"
test "$(echo "$machines" | awk '{print $1}')" -eq "$members"
