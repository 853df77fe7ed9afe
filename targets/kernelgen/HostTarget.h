//===- HostTarget.h - Halide targets for this machine -----------*- C++ -*-===//
//
// Resolves a target string the way every resnetc tool that runs Halide does,
// so that `host` means the same CPU features for the kernel generator and the
// kernel benchmark.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELGEN_HOSTTARGET_H
#define RESNETC_KERNELGEN_HOSTTARGET_H

#include "Halide.h"

#include <string>

namespace resnetc::kernelgen {

/// Halide 14 takes an x86 CPU with AVX-512 VNNI and BF16 (AMD Zen 4) for a
/// Sapphire Rapids, whose LLVM CPU model also has AVX-VNNI: LLVM then emits
/// the VEX-encoded vpdpwssd, an illegal instruction on such CPUs. Drops the
/// feature from a host target when the CPU lacks AVX-VNNI
/// (CPUID.(EAX=7,ECX=1):EAX bit 4); the Cannon Lake AVX-512 set remains.
Halide::Target correctHostTarget(Halide::Target target);

/// The target a valid target string names, with `host` (and `host-...`)
/// corrected by correctHostTarget.
Halide::Target resolveTarget(const std::string &text);

} // namespace resnetc::kernelgen

#endif // RESNETC_KERNELGEN_HOSTTARGET_H
