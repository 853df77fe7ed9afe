//===- ExpandShortcuts.cpp - rn.shortcut into explicit ops ----------------===//

#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Dialect/Rn/ShapeRules.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_EXPANDSHORTCUTS
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

Value expand(ShortcutOp op) {
  OpBuilder builder(op);
  int64_t inChannels = cast<RankedTensorType>(op.getInput().getType()).getDimSize(1);
  int64_t outChannels = op.getOutChannels();
  int64_t stride = op.getStride();
  if (shortcutIsProjection(stringifyShortcutKind(op.getKind()), inChannels, outChannels, stride)) {
    LayerBuilder layers(builder);
    ConvSpec spec;
    spec.width = outChannels;
    spec.kernelH = spec.kernelW = 1;
    spec.stride = stride;
    spec.paddingH = spec.paddingW = 0;
    spec.shortcut = true;
    std::string name = op.getName().str();
    Value projected = layers.conv(op.getLoc(), op.getInput(), name + ".conv", spec);
    if (!op.getProjectionBn())
      return projected;
    return layers.batchNorm(op.getLoc(), projected, name + ".bn");
  }
  if (op.getInput().getType() == op.getType())
    return op.getInput();
  // Only option A changes the shape without a projection (the verifier
  // rejected identity shortcuts that would).
  return ZeroPadShortcutOp::create(builder, op.getLoc(), op.getInput(), outChannels, stride)
      .getResult();
}

struct ExpandShortcutsPass : resnetc::impl::ExpandShortcutsBase<ExpandShortcutsPass> {
  void runOnOperation() override {
    SmallVector<ShortcutOp> shortcuts;
    getOperation().walk([&](ShortcutOp op) { shortcuts.push_back(op); });
    for (ShortcutOp op : shortcuts) {
      op.getResult().replaceAllUsesWith(expand(op));
      op.erase();
    }
  }
};

} // namespace
