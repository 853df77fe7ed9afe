//===- RnInterfaces.h - Interfaces of the rn dialect's ops ------*- C++ -*-===//

#ifndef RESNETC_DIALECT_RN_RNINTERFACES_H
#define RESNETC_DIALECT_RN_RNINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace resnetc::rn {
/// Receives one gradient contribution: (operand, its gradient).
using GradientAccumulator = llvm::function_ref<void(mlir::Value, mlir::Value)>;
} // namespace resnetc::rn

#include "resnetc/Dialect/Rn/RnInterfaces.h.inc"

#endif // RESNETC_DIALECT_RN_RNINTERFACES_H
