//===- ProbeResponses.cpp - The 3x3 layers' responses as outputs ----------===//
//
// The paper's Fig. 7 measures "the outputs of each 3x3 layer, after BN and
// before other nonlinearity (ReLU/addition)". This pass makes @forward
// return exactly those, named after their batch norm, so that the ordinary
// code generator compiles the probe: a headless network (rn.outputs) whose
// library's `run` writes every response.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace resnetc {
#define GEN_PASS_DEF_PROBERESPONSES
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;

namespace {

/// "stage1.0.bn2" for the batch norm whose gamma is "stage1.0.bn2.weight".
std::string responseName(rn::BatchNormOp batchNorm, size_t index) {
  if (auto gamma = batchNorm.getGamma().getDefiningOp<rn::WeightOp>()) {
    StringRef name = gamma.getName();
    return name.rsplit('.').first.str();
  }
  return "response" + std::to_string(index);
}

/// A batch norm of a 3 x 3 convolution's output.
bool isResponse(rn::BatchNormOp batchNorm) {
  auto conv = batchNorm.getInput().getDefiningOp<rn::Conv2DOp>();
  if (!conv)
    return false;
  auto weight = cast<ShapedType>(conv.getWeight().getType());
  return weight.getDimSize(2) == 3 && weight.getDimSize(3) == 3;
}

struct ProbeResponsesPass : resnetc::impl::ProbeResponsesBase<ProbeResponsesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
    if (!forward) {
      module.emitError("rn-probe-responses: no @forward function");
      return signalPassFailure();
    }
    SmallVector<Value> responses;
    SmallVector<Attribute> names;
    forward.walk([&](rn::BatchNormOp batchNorm) {
      if (!isResponse(batchNorm))
        return;
      responses.push_back(batchNorm.getResult());
      names.push_back(StringAttr::get(&getContext(), responseName(batchNorm, names.size())));
    });
    if (responses.empty()) {
      forward.emitError("rn-probe-responses: no 3x3 convolution followed by batch norm to probe");
      return signalPassFailure();
    }
    Operation *terminator = forward.getBody().front().getTerminator();
    terminator->setOperands(responses);
    forward.setFunctionType(FunctionType::get(&getContext(), forward.getArgumentTypes(),
                                              ValueRange(responses).getTypes()));
    module->removeAttr(rn::kClassesAttr);
    module->setAttr(rn::kOutputNamesAttr, ArrayAttr::get(&getContext(), names));
    // What only fed the head (and later layers' weights) goes.
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, forward.getBody());
  }
};

} // namespace
