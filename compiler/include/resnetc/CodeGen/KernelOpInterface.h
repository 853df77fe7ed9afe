//===- KernelOpInterface.h - An op's kernel steps ---------------*- C++ -*-===//
//
// How the kernel plan asks each rn op for its kernel calls
// (KernelOpInterface), and the services it offers the op while doing so
// (KernelPlanBuilder, KernelStep).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELOPINTERFACE_H
#define RESNETC_CODEGEN_KERNELOPINTERFACE_H

#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/KernelSpec/KernelSpec.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpDefinition.h"

namespace resnetc::codegen {

/// The step lists an op adds to.
enum class StepList {
  Run,         ///< The section being planned: forward, or the training step.
  Prepare,     ///< Once, after the weights are loaded.
  ExportState, ///< Before saving: kernel layouts back to the file's.
  ImportState, ///< After loading a checkpoint: the file's layouts to the kernels'.
};

/// What the plan offers an op that lowers itself. Buffers are placed by the
/// plan; the op decides the kernel, its arguments and its results' buffers.
class KernelPlanBuilder {
public:
  virtual ~KernelPlanBuilder() = default;

  /// What a step of `user` reads for `value`: an activation (its read is
  /// recorded for liveness), a loaded weight, or a value bound by bind().
  virtual mlir::FailureOr<BufferRef> read(mlir::Operation *user, mlir::Value value) = 0;
  /// A conv weight in the kernels' layout, packed once per weight.
  virtual mlir::FailureOr<BufferRef> packed(mlir::Operation *user, mlir::Value weight) = 0;
  /// Declares `value` an activation written by the step being added.
  virtual BufferRef write(mlir::Value value, BufferRef layout) = 0;
  /// A new slot of the weights space in `layout` (prepared weights, state).
  virtual BufferRef allocateWeights(BufferRef layout) = 0;
  /// From now on `value` is read from `ref`.
  virtual void bind(mlir::Value value, BufferRef ref) = 0;
  /// The kernel of `spec`, shared by equal specs; checks that `args` are the
  /// buffers it takes (KernelSpec::arguments), reporting errors on `op`.
  virtual mlir::FailureOr<unsigned> kernel(const KernelSpec &spec, llvm::ArrayRef<BufferRef> args,
                                           mlir::Operation *op) = 0;
  virtual void addStep(StepList list, unsigned kernel, std::vector<BufferRef> args,
                       std::string layer) = 0;

  /// Data-parallel training: starts averaging `args` over the ranks as one
  /// bucket. `results` are read from the same buffers; the plan finishes the
  /// bucket before the first op that reads one of them, or at the end of
  /// the step. The buffers must be dense.
  virtual mlir::LogicalResult startMeanOverRanks(mlir::Operation *op, int64_t bucket,
                                                 std::vector<BufferRef> args,
                                                 mlir::ValueRange results) = 0;

  /// Training: the buffer the kernels train for weight `name` (the packed
  /// copy of a conv weight, or the loaded tensor), and whether it is packed.
  virtual BufferRef trainedBuffer(llvm::StringRef name) const = 0;
  virtual bool isPacked(llvm::StringRef name) const = 0;
  /// Training: a momentum tensor exchanged with checkpoints.
  virtual void addMomentumSlot(WeightSlot slot) = 0;

  /// Inference: a folded weight packed in the blocked layout of its one conv.
  virtual void markBlocked(mlir::Value weight) = 0;
  virtual bool isBlocked(mlir::Value weight) const = 0;
  /// Inference: whether folded 3x3 filters may be transformed for Winograd's
  /// algorithm when the weights load (the target has that schedule).
  virtual bool preparesWinogradFilters() const = 0;
  /// Inference: a folded weight transformed for its one conv's
  /// F(m x m, 3 x 3); winogradFilterTile is 0 for any other weight.
  virtual void markWinogradFilter(mlir::Value weight, int64_t tile) = 0;
  virtual int64_t winogradFilterTile(mlir::Value weight) const = 0;
};

/// One kernel call of an op, its arguments gathered in the kernel's order.
class KernelStep {
public:
  KernelStep(KernelPlanBuilder &plan, mlir::Operation *op) : plan(plan), op(op) {}

  /// Appends what the step reads for `value` (skipped when null).
  mlir::LogicalResult read(mlir::Value value);
  mlir::LogicalResult read(std::initializer_list<mlir::Value> values);
  /// Appends `weight` in the kernels' packed layout.
  mlir::LogicalResult readPacked(mlir::Value weight);
  /// Appends the buffer `value` is written to.
  BufferRef write(mlir::Value value, BufferRef layout);
  void append(BufferRef ref) { args.push_back(std::move(ref)); }
  std::vector<BufferRef> &arguments() { return args; }

  /// Adds the call of `spec` to `list`, named after the op's layer unless
  /// `layer` names it.
  mlir::LogicalResult emit(const KernelSpec &spec, StepList list = StepList::Run,
                           std::string layer = "");

private:
  KernelPlanBuilder &plan;
  mlir::Operation *op;
  std::vector<BufferRef> args;
};

/// Attaches KernelOpInterface to the rn ops (lib/CodeGen/Lowering/).
void registerKernelOpInterfaceModels(mlir::DialectRegistry &registry);

} // namespace resnetc::codegen

#include "resnetc/CodeGen/KernelOpInterface.h.inc"

#endif // RESNETC_CODEGEN_KERNELOPINTERFACE_H
