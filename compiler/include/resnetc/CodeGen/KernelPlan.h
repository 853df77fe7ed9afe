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

#include "resnetc/CodeGen/MemoryPlanner.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace resnetc::codegen {

/// The memory a buffer lives in. The numbering is the runtime's ABI
/// (runtime/include/resnetc/runtime/ModelRuntime.h). Labels and Scalars are
/// used by training: the batch's labels, and the context's scalars (the
/// learning rate in, the loss and the number correct out).
enum class Space : int32_t {
  Input = 0,
  Output = 1,
  Arena = 2,
  Weights = 3,
  Labels = 4,
  Scalars = 5
};

/// Element types, numbered as in the runtime's ABI.
enum class ElementType : int32_t { F32 = 0, I32 = 1 };

/// A dense float tensor in one of the spaces, with Halide's dimension order
/// (innermost first); every dimension starts at 0.
struct BufferRef {
  Space space = Space::Arena;
  int64_t offset = 0; ///< Bytes from the start of the space.
  llvm::SmallVector<int32_t, 4> extents;
  llvm::SmallVector<int32_t, 4> strides;
  ElementType type = ElementType::F32;
  /// While planning: the activation whose arena offset is decided later.
  int32_t activation = -1;

  int64_t bytes() const;
};

struct KernelDef {
  std::string name; ///< The function symbol, `<model>_k<n>`.
  std::string spec; ///< resnetc-kernelgen's canonical spec string.
};

/// What a step does: call a kernel, or start or finish averaging its
/// buffers over the ranks of a data-parallel run. The runtime does the
/// latter with the communicator the application set (ModelRuntime.h,
/// resnetc_rt_collective); without one they do nothing. The numbering is the
/// runtime's ABI.
enum class StepKind : int32_t { Kernel = -1, StartMeanOverRanks = 0, FinishMeanOverRanks = 1 };

struct Step {
  unsigned kernel = 0; ///< Index into KernelPlan::kernels (kernel steps).
  std::vector<BufferRef> args;
  std::string layer; ///< The layer this step computes, for listings and errors.
  StepKind kind = StepKind::Kernel;
  int64_t bucket = 0; ///< Averaging steps: the bucket, numbered in starting order.
};

struct WeightSlot {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0; ///< Bytes into the weights space.
};

/// A headless network's output (`outputs = stage2, stage3`): an N x C x H x W
/// feature map, NCHW, at `offset` bytes into the output space, where the
/// outputs lie one after another in the order they are named.
struct OutputSlot {
  std::string name;
  std::vector<int64_t> shape; ///< N, C, H, W
  int64_t offset = 0;
};

struct PlanOptions {
  /// Plan a training library: the module also holds @train_step (from
  /// rn-append-optimizer) and batch norm is not folded.
  bool training = false;
  /// Where buffers start in the arena and the weights (TargetDescription::bufferAlignment).
  int64_t bufferAlignment = kBufferAlignment;
  /// Inference: transform the 3x3 filters of the convs that take Winograd's
  /// algorithm when the weights load (CPU targets: their kernels take
  /// conv2d's weights=winograd).
  bool winogradFilters = false;
};

/// The scalars space: the learning rate, the loss and the number correct,
/// each in a slot of this many bytes so that every one is an aligned buffer
/// on any device. An ABI with the runtime (RESNETC_RT_SCALAR_SLOT_BYTES).
inline constexpr int64_t kScalarSlotBytes = 512;

struct KernelPlan {
  std::string model;
  uint64_t architectureHash = 0;
  std::vector<int64_t> inputShape; ///< N, C, H, W
  /// N, classes; a backbone's: N, the values of all its outputs for one image.
  std::vector<int64_t> outputShape;
  std::vector<OutputSlot> outputs; ///< A backbone's outputs; empty for a classifier.
  std::vector<KernelDef> kernels;
  std::vector<Step> prepare; ///< Run once, after the weights are loaded.
  std::vector<Step> forward; ///< One inference.
  std::vector<Step> train;   ///< Training: forward, loss, backward, SGD, running statistics.
  /// A backbone's training step is two calls: `train` is the forward pass,
  /// which writes the outputs; these steps go on from the caller's gradients
  /// of them (read from the output space): backward, SGD, running statistics.
  std::vector<Step> trainBackward;
  /// Training: writes the kernels' copies of the weights (packed convs) back
  /// into the loaded slots, so that they can be saved.
  std::vector<Step> exportWeights;
  /// Training: where each trained tensor's momentum is exchanged with
  /// checkpoints, in the loaded (file) layout. exportWeights fills these
  /// slots; importState packs them back into the kernels' buffers.
  std::vector<WeightSlot> momentum;
  std::vector<Step> importState;
  std::vector<WeightSlot> weights; ///< Filled from the .rnw file, by name.
  int64_t weightsBytes = 0;        ///< Loaded weights plus prepared ones.
  int64_t arenaBytes = 0;          ///< Activations, planned by liveness.
};

/// Builds the plan of a module prepared by prepareForCodegen (inference) or
/// prepareForTraining. Reports an error on the offending op and fails for an
/// op it cannot lower.
mlir::FailureOr<KernelPlan> planKernels(mlir::ModuleOp module, const PlanOptions &options = {});

/// The plan as text (`resnetc compile --emit=kernels`).
void printKernelPlan(llvm::raw_ostream &os, const KernelPlan &plan);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_KERNELPLAN_H
