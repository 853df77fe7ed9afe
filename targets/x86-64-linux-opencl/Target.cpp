//===- Target.cpp - x86-64-linux-opencl: OpenCL devices -------------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_x86_64_linux_opencl() {
  TargetDescription target;
  target.name = "x86-64-linux-opencl";
  target.base = "x86-64-linux";
  target.requiredFeatures = {"opencl"};
  target.usage = "x86-64-linux-opencl";
  target.summary = "OpenCL devices, through libOpenCL.so at run time; weights and activations "
                   "stay on the device";
  target.llvmTriple = "x86_64-unknown-linux-gnu";
  // Devices take a buffer at an offset only at CL_DEVICE_MEM_BASE_ADDR_ALIGN,
  // at most 4096 bits on the devices we know (NVIDIA's).
  target.bufferAlignment = 512;
  target.deviceInterface = "halide_opencl_device_interface";
  target.scheduler = SchedulerKind::Gpu;
  return target;
}

} // namespace resnetc::targets
