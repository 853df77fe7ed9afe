//===- RecordArchitectureHash.cpp - The hash weights files check ----------===//
//
// A pass, so that the pipelines record the hash at one named point (after
// shortcut expansion) instead of between pass managers.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_RECORDARCHITECTUREHASH
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

namespace {

struct RecordArchitectureHashPass
    : resnetc::impl::RecordArchitectureHashBase<RecordArchitectureHashPass> {
  void runOnOperation() override { resnetc::recordArchitectureHash(getOperation()); }
};

} // namespace
