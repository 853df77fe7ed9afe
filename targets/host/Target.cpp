//===- Target.cpp - host: the machine resnetc runs on ---------------------===//

#include "resnetc/Target/TargetDescription.h"

namespace resnetc::targets {

/// Named after the folder (CMake lists the folders into the registry).
TargetDescription describe_host() {
  TargetDescription target;
  target.name = "host";
  target.base = "host";
  target.usage = "host";
  target.summary = "this machine (its CPU's features, found by Halide)";
  return target; // the host's triple and runtime, CPU schedules
}

} // namespace resnetc::targets
