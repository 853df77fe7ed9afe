//===- RnOps.h - Operations of the rn dialect -------------------*- C++ -*-===//

#ifndef RESNETC_DIALECT_RN_RNOPS_H
#define RESNETC_DIALECT_RN_RNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Dialect/Rn/RnInterfaces.h"

#define GET_OP_CLASSES
#include "resnetc/Dialect/Rn/RnOps.h.inc"

#endif // RESNETC_DIALECT_RN_RNOPS_H
