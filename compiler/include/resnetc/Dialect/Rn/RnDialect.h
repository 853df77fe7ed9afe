//===- RnDialect.h - The rn dialect -----------------------------*- C++ -*-===//

#ifndef RESNETC_DIALECT_RN_RNDIALECT_H
#define RESNETC_DIALECT_RN_RNDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "resnetc/Dialect/Rn/RnDialect.h.inc"
#include "resnetc/Dialect/Rn/RnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "resnetc/Dialect/Rn/RnAttrs.h.inc"

namespace resnetc::rn {
/// Module attribute names that describe the network as a whole.
inline constexpr llvm::StringLiteral kModelNameAttr = "rn.model";
inline constexpr llvm::StringLiteral kInputShapeAttr = "rn.input";
inline constexpr llvm::StringLiteral kClassesAttr = "rn.classes";
/// A headless network (`outputs = stage2, stage3`): the name of each result
/// of kForwardFunction, in order. Classifiers have kClassesAttr instead.
inline constexpr llvm::StringLiteral kOutputNamesAttr = "rn.outputs";
/// On an rn.dense: one of a squeeze-excitation gate's two fc layers (a part
/// of that layer, not one of the network's weighted layers).
inline constexpr llvm::StringLiteral kGateAttr = "rn.gate";
/// The function holding the forward pass.
inline constexpr llvm::StringLiteral kForwardFunction = "forward";
/// The function rn-autodiff builds: (images, labels) -> (loss, gradients...)
/// of one batch; for a backbone (kOutputNamesAttr), (images, the outputs'
/// gradients...) -> (outputs..., gradients...).
inline constexpr llvm::StringLiteral kTrainGradsFunction = "train_grads";
/// On kTrainGradsFunction: the weight name of each gradient result.
inline constexpr llvm::StringLiteral kGradientNamesAttr = "rn.gradients";
/// The function rn-append-optimizer makes of kTrainGradsFunction: one whole
/// training step, (images, labels, learning rate) -> (loss, next states...);
/// a backbone's, (images, output gradients..., learning rate) -> (outputs...,
/// next states...).
inline constexpr llvm::StringLiteral kTrainStepFunction = "train_step";
/// On kTrainStepFunction: the state each result after the loss (or outputs) replaces
/// (a weight's name, or "momentum of <weight>").
inline constexpr llvm::StringLiteral kStateUpdatesAttr = "rn.state_updates";
} // namespace resnetc::rn

#endif // RESNETC_DIALECT_RN_RNDIALECT_H
