//===- Lowering.h - KernelOpInterface models, by group ----------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_LOWERING_LOWERING_H
#define RESNETC_CODEGEN_LOWERING_LOWERING_H

#include "resnetc/CodeGen/KernelLayouts.h"
#include "resnetc/CodeGen/KernelOpInterface.h"
#include "resnetc/Dialect/Rn/RnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace resnetc::codegen {
void attachInferenceKernels(mlir::MLIRContext *context);
void attachTrainingKernels(mlir::MLIRContext *context);
void attachOptimizerKernels(mlir::MLIRContext *context);
void attachDataParallelSteps(mlir::MLIRContext *context);
void attachBatchNormTrainingKernels(mlir::MLIRContext *context);
void attachGateKernels(mlir::MLIRContext *context);

/// The largest Winograd output tile (KernelSpec::winogradTile) a 3x3
/// inference conv at stride 1 may take: 4 on a residual branch, else 2
/// (docs/winograd.md). WinogradRule.cpp.
int64_t inferenceWinogradTile(rn::FusedConv2DOp conv);
/// The same for a training step's forward conv (rn.conv2d): 4 where its
/// output feeds a residual sum through the forward pass, else 2.
/// WinogradRule.cpp.
int64_t trainingWinogradTile(rn::Conv2DOp conv);
/// The tile m of F(m x m, 3 x 3) for which an inference conv's 3x3 filter is
/// transformed when the weights load, or 0 where it keeps the direct
/// layouts (docs/winograd.md). WinogradRule.cpp.
int64_t preparedWinogradTile(rn::FusedConv2DOp conv);
} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_LOWERING_LOWERING_H
