//===- TargetDescription.h - What a compilation target is -------*- C++ -*-===//
//
// Everything resnetc knows about one target, in one place: the LLVM triple
// of the orchestration code, the Halide features it implies, the buffer
// alignment, the GPU device interface, where its runtime library lives and
// which scheduler its kernels get. One folder per target under targets/
// (targets/<name>/Target.cpp) defines one; CMake lists the folders into the
// registry, so adding a target means adding a folder. Plain C++, linked by
// the compiler and by resnetc-kernelgen alike.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TARGET_TARGETDESCRIPTION_H
#define RESNETC_TARGET_TARGETDESCRIPTION_H

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc {

/// The schedules a target's kernels get (targets/cpu, targets/gpu).
enum class SchedulerKind { Cpu, Gpu };

struct TargetDescription {
  /// What --target names: `base` (the first three fields of a Halide target
  /// string, or "host") followed by features, of which `requiredFeatures` must all
  /// be present.
  std::string name;
  std::string base;
  std::vector<std::string> requiredFeatures;
  /// The features it adds to the Halide target string when missing.
  std::vector<std::string> impliedFeatures;
  /// The line `resnetc targets` prints, and the optional features it takes.
  std::string usage, summary, optionalFeatures;

  /// The orchestration code's LLVM triple; empty: the host's.
  std::string llvmTriple;
  /// Arena and weight buffers start at multiples of this many bytes.
  int64_t bufferAlignment = 64;
  /// The Halide device interface the kernels run through; empty on CPUs.
  std::string deviceInterface;
  /// The runtime library's folder under lib/ (empty: lib/ itself), and what
  /// to do when it is missing.
  std::string runtimeFolder, runtimeHint;
  SchedulerKind scheduler = SchedulerKind::Cpu;
};

/// Every registered target, in the order of their folders' names.
const std::vector<TargetDescription> &registeredTargets();

/// The description a --target string selects: the registered targets whose
/// base and required features match; of those, a GPU target first (the
/// device decides where kernels run), then the one requiring the most
/// features. Null if none matches.
const TargetDescription *findTarget(const std::string &target);

/// `target` with the features its description implies appended where
/// missing: the Halide target string the kernels are compiled for.
std::string halideTargetString(const TargetDescription &description, const std::string &target);

/// "host, x86-64-linux[-FEATURES], ...": what --target accepts, for errors.
std::string supportedTargetsText();

} // namespace resnetc

#endif // RESNETC_TARGET_TARGETDESCRIPTION_H
