//===- Passes.h - resnetc passes on the rn dialect --------------*- C++ -*-===//

#ifndef RESNETC_TRANSFORMS_PASSES_H
#define RESNETC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "resnetc/Dialect/Rn/RnDialect.h"

namespace resnetc {

#define GEN_PASS_DECL
#include "resnetc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "resnetc/Transforms/Passes.h.inc"

} // namespace resnetc

#endif // RESNETC_TRANSFORMS_PASSES_H
