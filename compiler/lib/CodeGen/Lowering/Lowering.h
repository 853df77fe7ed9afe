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
} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_LOWERING_LOWERING_H
