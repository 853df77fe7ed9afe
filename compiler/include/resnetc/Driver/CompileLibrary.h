//===- CompileLibrary.h - model.rn to lib<model>.a, <model>.h, .rnw -*- C++ -*-===//

#ifndef RESNETC_DRIVER_COMPILELIBRARY_H
#define RESNETC_DRIVER_COMPILELIBRARY_H

#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/Target/TargetDescription.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace resnetc {

struct LibraryOptions {
  std::string outputDir = ".";
  std::string target = "host";
  std::string sourceName;     ///< For the header's comment.
  std::string weightsFile;    ///< Copy these weights (checked) instead of initialising.
  uint64_t seed = 0;          ///< Seed of the initial weights otherwise.
  std::string kernelgen;      ///< resnetc-kernelgen.
  std::string runtimeArchive; ///< libResnetcModelRuntime.a built for the target.
  std::string cacheDir;
  unsigned jobs = 1;
  bool training = false;     ///< Also compile <model>_train_step.
  double momentum = 0.9;     ///< SGD momentum, compiled in.
  double weightDecay = 1e-4; ///< L2 weight decay, compiled in.
  /// Gradient bytes per allreduce of a data-parallel run (rn-data-parallel).
  int64_t allreduceBucketBytes = int64_t(25) << 20;
  /// More than 0: batch norm synchronised over that many ranks.
  int64_t syncBatchNormRanks = 0;
};

struct LibraryReport {
  size_t kernels = 0;
  unsigned kernelsBuilt = 0, kernelsCached = 0;
  double seconds = 0;
  int64_t arenaBytes = 0, weightsBytes = 0;
  std::string archive, header, weights;
  std::string model;                ///< The C symbol prefix of the library.
  std::vector<int64_t> inputShape;  ///< N, C, H, W
  std::vector<int64_t> outputShape; ///< N, classes
  bool training = false;            ///< Has the training entry points.
};

/// Compiles an imported module (shortcuts not yet expanded) into
/// <outputDir>/lib<model>.a, <model>.h and <model>.rnw. Errors are reported
/// through MLIR diagnostics or `error`.
bool compileLibrary(mlir::ModuleOp module, const LibraryOptions &options, LibraryReport &report,
                    std::string &error);

/// The steps of compileLibrary that `resnetc compile --emit=...` stops after:
/// the kernel plan of a module prepared for code generation (or training)
/// for `target`, and its orchestration code, verified.
mlir::FailureOr<codegen::KernelPlan> planLibrary(mlir::ModuleOp module, bool training,
                                                 const TargetDescription &target);
mlir::OwningOpRef<mlir::ModuleOp> buildLibraryOrchestration(mlir::MLIRContext &context,
                                                            const codegen::KernelPlan &plan,
                                                            const TargetDescription &target,
                                                            std::string &error);

/// Where the tools and the runtime archive are, relative to the running
/// resnetc executable (the build tree and an installed tree look alike).
std::string defaultKernelgenPath();
/// The runtime archive built for `target`'s architecture: lib/ for the host's,
/// lib/<triple>/ for a cross target (lib/aarch64-linux-gnu/ for arm-64-linux).
std::string defaultRuntimeArchive(const std::string &target);
std::string defaultCacheDir();

} // namespace resnetc

#endif // RESNETC_DRIVER_COMPILELIBRARY_H
