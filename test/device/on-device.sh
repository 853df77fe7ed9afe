#!/usr/bin/env bash
# on-device.sh API TESTS: runs a device test program where the API has a
# device, and otherwise exits 77 with the reason (ctest shows "skipped").
#   cuda:   an NVIDIA driver (libcuda.so) is installed;
#   opencl: an OpenCL platform is registered (an ICD file; PoCL here) and
#           libOpenCL.so, which Halide's runtime opens, is on the library path.
set -euo pipefail
api=$1 tests=$2
case $api in
cuda)
  if ! { /sbin/ldconfig -p 2>/dev/null | grep -q 'libcuda\.so' || [[ -e /dev/nvidiactl ]]; }; then
    echo "skipped: no NVIDIA driver (libcuda.so) on this machine"
    exit 77
  fi
  ;;
opencl)
  if ! compgen -G '/etc/OpenCL/vendors/*.icd' >/dev/null; then
    echo "skipped: no OpenCL platform (no /etc/OpenCL/vendors/*.icd; apt-get install pocl-opencl-icd)"
    exit 77
  fi
  if ! compgen -G '/usr/lib/*/libOpenCL.so' >/dev/null && ! compgen -G '/usr/*lib/libOpenCL.so' >/dev/null; then
    echo "skipped: no libOpenCL.so (apt-get install ocl-icd-opencl-dev)"
    exit 77
  fi
  ;;
*)
  echo "unknown device API '$api'" >&2
  exit 2
  ;;
esac
exec "$tests" --gtest_brief=1
