//===- ReferenceExecutor.h - The numerics oracle ----------------*- C++ -*-===//
//
// Runs an rn function with plain loops, in double-precision accumulators,
// one op at a time. It is deliberately simple so that it can be trusted: the
// compiled code of every later stage is checked against it.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_REFERENCE_REFERENCEEXECUTOR_H
#define RESNETC_REFERENCE_REFERENCEEXECUTOR_H

#include "resnetc/runtime/WeightsFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace resnetc::reference {

/// A dense tensor in double precision: the oracle rounds less than the code
/// it checks, and finite differences of it are accurate.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data; ///< Row-major (NCHW for activations).

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, double fill = 0.0);
  Tensor(std::vector<int64_t> shape, std::vector<double> data)
      : shape(std::move(shape)), data(std::move(data)) {}
  Tensor(std::vector<int64_t> shape, const std::vector<float> &values)
      : shape(std::move(shape)), data(values.begin(), values.end()) {}
  int64_t size() const { return int64_t(data.size()); }
  std::vector<float> toFloat() const { return {data.begin(), data.end()}; }
};

using WeightMap = llvm::StringMap<Tensor>;

enum class BatchNormMode {
  Inference, ///< Normalise with the running statistics.
  Training,  ///< Normalise with batch statistics, and update the running ones.
};

struct RunOptions {
  BatchNormMode batchNorm = BatchNormMode::Inference;
  /// In training mode, replaces every batch norm's momentum; 1 makes the
  /// running statistics those of this batch (calibration, for tests).
  std::optional<double> momentum;
  /// In training mode, dropout's mask is drawn for this seed and step
  /// (resnetc/KernelSpec/DropoutMask.h); in inference mode dropout is the
  /// identity.
  uint32_t dropoutSeed = 0, dropoutStep = 0;
};

/// Runs `function` (shortcuts expanded) on `inputs`. Weights are looked up by
/// name in `weights`; in training mode their running statistics are updated
/// (new = (1 - momentum) old + momentum batch, unbiased batch variance).
/// Returns false with a reason on a missing weight or a shape mismatch.
bool run(mlir::func::FuncOp function, const std::vector<Tensor> &inputs, WeightMap &weights,
         const RunOptions &options, std::vector<Tensor> &outputs, std::string &error);

/// Gradients of a scalar objective L with respect to a function's inputs and
/// weights (running statistics excluded: they are state, not parameters).
struct Gradients {
  std::vector<Tensor> inputs;
  WeightMap weights;
};

/// Runs `function` forward like `run`, then backward from `outputGradients`
/// (dL/d output, one per result) by reverse-mode differentiation of every op:
/// conv (data, weight, bias), batch norm (through the batch statistics in
/// training mode), relu, add, max pool (to the first maximum of each window),
/// global average pool, dense, zero-pad shortcut, softmax cross-entropy.
bool runWithGradients(mlir::func::FuncOp function, const std::vector<Tensor> &inputs,
                      WeightMap &weights, const RunOptions &options,
                      const std::vector<Tensor> &outputGradients, std::vector<Tensor> &outputs,
                      Gradients &gradients, std::string &error);

WeightMap toWeightMap(const WeightsFile &file);

} // namespace resnetc::reference

#endif // RESNETC_REFERENCE_REFERENCEEXECUTOR_H
