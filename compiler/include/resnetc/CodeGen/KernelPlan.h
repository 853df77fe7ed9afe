//===- KernelPlan.h - A model as a sequence of kernel calls -----*- C++ -*-===//
//
// What the code generator makes of an rn module ready for code generation
// (shortcuts expanded, batch norm folded, epilogues fused): the distinct
// kernels, each described by the spec string resnetc-kernelgen compiles, the
// calls that prepare the weights once they are loaded, the calls of a forward
// pass, and where every buffer lives.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELPLAN_H
#define RESNETC_CODEGEN_KERNELPLAN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace resnetc::codegen {

/// The memory a buffer lives in. The numbering is the runtime's ABI
/// (runtime/include/resnetc/runtime/ModelRuntime.h).
enum class Space : int32_t { Input = 0, Output = 1, Arena = 2, Weights = 3 };

/// A dense float tensor in one of the spaces, with Halide's dimension order
/// (innermost first); every dimension starts at 0.
struct BufferRef {
  Space space = Space::Arena;
  int64_t offset = 0; ///< Bytes from the start of the space.
  llvm::SmallVector<int32_t, 4> extents;
  llvm::SmallVector<int32_t, 4> strides;

  int64_t bytes() const;
};

struct KernelDef {
  std::string name; ///< The function symbol, `<model>_k<n>`.
  std::string spec; ///< resnetc-kernelgen's canonical spec string.
};

struct Step {
  unsigned kernel = 0; ///< Index into KernelPlan::kernels.
  std::vector<BufferRef> args;
  std::string layer; ///< The layer this step computes, for listings and errors.
};

struct WeightSlot {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0; ///< Bytes into the weights space.
};

struct KernelPlan {
  std::string model;
  uint64_t architectureHash = 0;
  std::vector<int64_t> inputShape;  ///< N, C, H, W
  std::vector<int64_t> outputShape; ///< N, classes
  std::vector<KernelDef> kernels;
  std::vector<Step> prepare;       ///< Run once, after the weights are loaded.
  std::vector<Step> forward;       ///< One inference.
  std::vector<WeightSlot> weights; ///< Filled from the .rnw file, by name.
  int64_t weightsBytes = 0;        ///< Loaded weights plus prepared ones.
  int64_t arenaBytes = 0;          ///< Activations, planned by liveness.
};

/// Builds the plan of a module prepared by prepareForCodegen. Reports an
/// error on the offending op and fails for an op it cannot lower.
mlir::FailureOr<KernelPlan> planKernels(mlir::ModuleOp module);

/// The plan as text (`resnetc compile --emit=kernels`).
void printKernelPlan(llvm::raw_ostream &os, const KernelPlan &plan);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_KERNELPLAN_H
