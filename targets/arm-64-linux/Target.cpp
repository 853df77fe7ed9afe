//===- Target.cpp - arm-64-linux: AArch64 Linux with NEON -----------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_arm_64_linux() {
  TargetDescription target;
  target.name = "arm-64-linux";
  target.base = "arm-64-linux";
  target.usage = "arm-64-linux[-FEATURES]";
  target.summary = "AArch64 Linux with NEON (Raspberry Pi 4/5, Jetson, Graviton)";
  target.optionalFeatures = "arm_dot_prod arm_fp16";
  target.llvmTriple = "aarch64-unknown-linux-gnu";
  // Cross-built by cmake/ResnetcCrossTargets.cmake when the compiler is there.
  target.runtimeFolder = "aarch64-linux-gnu";
  target.runtimeHint = "build resnetc with g++-aarch64-linux-gnu installed (docs/targets.md)";
  return target;
}

} // namespace resnetc::targets
