//===- HostTarget.cpp - Halide targets for this machine -------------------===//

#include "HostTarget.h"

#include "resnetc/Target/TargetDescription.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace resnetc::kernelgen {

Halide::Target correctHostTarget(Halide::Target target) {
#if defined(__x86_64__) || defined(__i386__)
  if (target.has_feature(Halide::Target::AVX512_SapphireRapids)) {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax & (1u << 4)))
      target = target.without_feature(Halide::Target::AVX512_SapphireRapids);
  }
#endif
  return target;
}

Halide::Target resolveTarget(const std::string &text) {
  // The features the target's description implies (x86-64-linux-avx2: fma...).
  const TargetDescription *description = findTarget(text);
  Halide::Target target(description ? halideTargetString(*description, text) : text);
  if (text == "host" || text.rfind("host-", 0) == 0)
    target = correctHostTarget(target);
  return target;
}

} // namespace resnetc::kernelgen
