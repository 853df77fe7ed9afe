//===- Target.cpp - x86-64-linux-avx2: AVX2 machines ----------------------===//
//
// Haswell and later, Zen 1-3: AVX2 with the features every such CPU has, so
// that `--target=x86-64-linux-avx2` gets FMA kernels without listing them.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_x86_64_linux_avx2() {
  TargetDescription target;
  target.name = "x86-64-linux-avx2";
  target.base = "x86-64-linux";
  target.requiredFeatures = {"avx2"};
  target.impliedFeatures = {"avx", "f16c", "fma", "sse41"};
  target.usage = "x86-64-linux-avx2";
  target.summary = "x86-64 Linux with AVX2 (implies avx, f16c, fma, sse41: Haswell, Zen and later)";
  target.llvmTriple = "x86_64-unknown-linux-gnu";
  // One 256-bit vector per aligned load; 64 keeps buffers on cache lines.
  target.bufferAlignment = 64;
  return target;
}

} // namespace resnetc::targets
