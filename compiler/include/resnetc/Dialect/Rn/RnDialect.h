//===- RnDialect.h - The rn dialect -----------------------------*- C++ -*-===//

#ifndef RESNETC_DIALECT_RN_RNDIALECT_H
#define RESNETC_DIALECT_RN_RNDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "resnetc/Dialect/Rn/RnDialect.h.inc"

namespace resnetc::rn {
/// Module attribute names that describe the network as a whole.
inline constexpr llvm::StringLiteral kModelNameAttr = "rn.model";
inline constexpr llvm::StringLiteral kInputShapeAttr = "rn.input";
inline constexpr llvm::StringLiteral kClassesAttr = "rn.classes";
/// The function holding the forward pass.
inline constexpr llvm::StringLiteral kForwardFunction = "forward";
/// The function rn-autodiff builds: loss and gradients of one batch.
inline constexpr llvm::StringLiteral kTrainGradsFunction = "train_grads";
/// On kTrainGradsFunction: the weight name of each gradient result.
inline constexpr llvm::StringLiteral kGradientNamesAttr = "rn.gradients";
} // namespace resnetc::rn

#endif // RESNETC_DIALECT_RN_RNDIALECT_H
