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

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data; ///< Row-major (NCHW for activations).

  Tensor() = default;
  Tensor(std::vector<int64_t> shape, float fill = 0.0f);
  Tensor(std::vector<int64_t> shape, std::vector<float> data)
      : shape(std::move(shape)), data(std::move(data)) {}
  int64_t size() const { return int64_t(data.size()); }
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
};

/// Runs `function` (shortcuts expanded) on `inputs`. Weights are looked up by
/// name in `weights`; in training mode their running statistics are updated
/// (new = (1 - momentum) old + momentum batch, unbiased batch variance).
/// Returns false with a reason on a missing weight or a shape mismatch.
bool run(mlir::func::FuncOp function, const std::vector<Tensor> &inputs, WeightMap &weights,
         const RunOptions &options, std::vector<Tensor> &outputs, std::string &error);

WeightMap toWeightMap(const WeightsFile &file);

} // namespace resnetc::reference

#endif // RESNETC_REFERENCE_REFERENCEEXECUTOR_H
