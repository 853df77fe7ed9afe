//===- RnDialect.cpp - The rn dialect -------------------------------------===//

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Dialect/Rn/RnOps.h"

using namespace resnetc::rn;

#include "resnetc/Dialect/Rn/RnDialect.cpp.inc"

void RnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "resnetc/Dialect/Rn/RnOps.cpp.inc"
      >();
}
