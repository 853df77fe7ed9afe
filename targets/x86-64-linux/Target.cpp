//===- Target.cpp - x86-64-linux: any x86-64 Linux CPU --------------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_x86_64_linux() {
  TargetDescription target;
  target.name = "x86-64-linux";
  target.base = "x86-64-linux";
  target.usage = "x86-64-linux[-FEATURES]";
  target.summary = "x86-64 Linux";
  target.optionalFeatures = "sse41 avx avx2 fma f16c avx512 avx512_skylake avx512_cannonlake "
                            "avx512_sapphirerapids";
  target.llvmTriple = "x86_64-unknown-linux-gnu";
  return target;
}

} // namespace resnetc::targets
