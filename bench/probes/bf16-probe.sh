#!/usr/bin/env bash
# Issue 21's BF16 probe: does the Halide resnetc builds with (Debian's
# libhalide14) emit vdpbf16ps for a bf16 dot product? Builds and runs
# bf16_dot_product.cpp; the answer is the vdpbf16ps column (bench/README.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include=/usr/include/halide14
[[ -f $include/Halide.h ]] || { echo "bf16-probe.sh: no $include/Halide.h (Debian: libhalide14-0-dev)" >&2; exit 1; }
"${CXX:-c++}" -std=c++17 -O1 "$here/bf16_dot_product.cpp" -I"$include" -lHalide14 -lpthread -ldl \
  -o "$work/probe"
"$work/probe" "$work"
# Whether a selected wrapper made it into the object as code or as a symbol
# left undefined (then nothing links it).
for object in "$work"/*.o; do
  symbols=$(nm -u "$object" | awk '/dpbf16/ { print $2 }')
  [[ -n $symbols ]] && echo "$(basename "$object"): undefined symbol $symbols: the object does not link"
done
exit 0
