//===- Orchestration.h - The kernel calls, in MLIR's LLVM dialect -*- C++ -*-===//

#ifndef RESNETC_CODEGEN_ORCHESTRATION_H
#define RESNETC_CODEGEN_ORCHESTRATION_H

#include "resnetc/CodeGen/KernelPlan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace resnetc::codegen {

/// Builds the orchestration code of a plan in the LLVM dialect:
///  - `<model>_model`, the resnetc_rt_model descriptor (runtime/.../ModelRuntime.h),
///    with the weights table and the per-step buffer tables as constants;
///  - `<model>_prepare` and `<model>_forward`, which call each kernel's
///    `_argv` entry point through resnetc_rt_invoke, in plan order, and
///    return the first non-zero status;
///  - the public C API, `<model>_create`, ..., `<model>_error_message`.
/// `deviceInterface` names the Halide runtime function that returns the
/// kernels' GPU device interface (TargetDescription::deviceInterface); empty
/// on CPUs.
mlir::OwningOpRef<mlir::ModuleOp> buildOrchestration(mlir::MLIRContext &context,
                                                     const KernelPlan &plan,
                                                     llvm::StringRef deviceInterface = "");

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_ORCHESTRATION_H
