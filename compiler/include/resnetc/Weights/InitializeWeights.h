//===- InitializeWeights.h - Fresh weights for a network --------*- C++ -*-===//

#ifndef RESNETC_WEIGHTS_INITIALIZEWEIGHTS_H
#define RESNETC_WEIGHTS_INITIALIZEWEIGHTS_H

#include "resnetc/runtime/WeightsFile.h"

#include "mlir/IR/BuiltinOps.h"

namespace resnetc {

/// Bytes of weights above which init refuses to allocate.
inline constexpr int64_t kMaxWeightBytes = int64_t(8) << 30;

/// Total values of every rn.weight of the forward function.
int64_t countWeightValues(mlir::ModuleOp module);

/// Fills every rn.weight of `module` (shortcuts expanded) by its `init`:
/// he_normal N(0, 2/fan_in), fc_uniform U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
/// ones, zeros. Each tensor draws from its own stream, seeded by `seed` and
/// its name, so the values do not depend on the order of layers and are the
/// same on every platform.
WeightsFile initializeWeights(mlir::ModuleOp module, uint64_t seed);

} // namespace resnetc

#endif // RESNETC_WEIGHTS_INITIALIZEWEIGHTS_H
