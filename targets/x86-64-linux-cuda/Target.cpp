//===- Target.cpp - x86-64-linux-cuda: NVIDIA GPUs ------------------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_x86_64_linux_cuda() {
  TargetDescription target;
  target.name = "x86-64-linux-cuda";
  target.base = "x86-64-linux";
  target.requiredFeatures = {"cuda"};
  target.usage = "x86-64-linux-cuda[-cuda_capability_NN]";
  target.summary = "NVIDIA GPUs: kernels as PTX, run through the driver (libcuda) at run time; "
                   "weights and activations stay on the device";
  target.llvmTriple = "x86_64-unknown-linux-gnu";
  target.deviceInterface = "halide_cuda_device_interface";
  target.scheduler = SchedulerKind::Gpu;
  return target;
}

} // namespace resnetc::targets
