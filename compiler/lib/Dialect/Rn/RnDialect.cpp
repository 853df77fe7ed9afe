//===- RnDialect.cpp - The rn dialect -------------------------------------===//

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Dialect/Rn/RnOps.h"

using namespace mlir;
using namespace resnetc::rn;

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include "resnetc/Dialect/Rn/RnDialect.cpp.inc"
#include "resnetc/Dialect/Rn/RnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "resnetc/Dialect/Rn/RnAttrs.cpp.inc"

void RnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "resnetc/Dialect/Rn/RnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "resnetc/Dialect/Rn/RnOps.cpp.inc"
      >();
}
