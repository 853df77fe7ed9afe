//===- CheckWeights.h - Does a weights file fit a network? ------*- C++ -*-===//
//
// Every path that brings weights in (compile --weights, import) checks them
// here, so each reports the same, complete reasons: the tensor's name, the
// expected and the actual shape, its dtype, its first non-finite value.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_WEIGHTS_CHECKWEIGHTS_H
#define RESNETC_WEIGHTS_CHECKWEIGHTS_H

#include "resnetc/runtime/WeightsFile.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace resnetc {

/// A tensor a network reads: its rn.weight name and shape.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};

/// Every rn.weight of the module's forward function (shortcuts expanded), in
/// the order the network uses them.
std::vector<ExpectedTensor> expectedWeights(mlir::ModuleOp module);

struct WeightsCheckOptions {
  /// Accept the "momentum/..." tensors a training checkpoint carries.
  bool allowCheckpointState = true;
};

/// Checks `tensors` against `expected`: each present, with its shape and only
/// finite values; no tensor the network does not read. On failure `errors`
/// lists every problem found, one line each (at most a few dozen), naming the
/// tensor, and for a shape the expected and the actual one.
bool checkWeightsFit(const std::vector<NamedTensor> &tensors,
                     const std::vector<ExpectedTensor> &expected,
                     const WeightsCheckOptions &options, std::vector<std::string> &errors);

/// All the checks of a weights file that is to be compiled with, or was
/// made for, `module` (shortcuts expanded): the model's name, every tensor
/// (checkWeightsFit) and the architecture hash. The input description is not
/// compared with the network's input: a fully convolutional network may be
/// compiled for other sizes than it was trained at. `error` is one line per problem, the first
/// prefixed with `source`.
bool checkWeightsForModule(const WeightsFile &weights, mlir::ModuleOp module,
                           const std::string &source, std::string &error);

/// The index of the first NaN or infinity in `tensor`, or -1.
int64_t firstNonFinite(const NamedTensor &tensor);

} // namespace resnetc

#endif // RESNETC_WEIGHTS_CHECKWEIGHTS_H
