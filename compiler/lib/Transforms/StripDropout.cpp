//===- StripDropout.cpp - Dropout is the identity at inference ------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_STRIPDROPOUT
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;

namespace {

struct StripDropoutPass : resnetc::impl::StripDropoutBase<StripDropoutPass> {
  using StripDropoutBase::StripDropoutBase;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!functions.empty() && !llvm::is_contained(functions, function.getSymName()))
      return;
    function.walk([](rn::DropoutOp dropout) {
      dropout.getResult().replaceAllUsesWith(dropout.getInput());
      dropout.erase();
    });
  }
};

} // namespace
