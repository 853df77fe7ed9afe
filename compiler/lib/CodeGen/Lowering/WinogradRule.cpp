//===- WinogradRule.cpp - Which Winograd tile an inference conv may take --===//
//
// The compiler's half of the rule in docs/winograd.md: how large an output
// tile the Winograd algorithm of an inference conv may use. (Whether it pays
// at the conv's shape is the target's half: Scheduler::winogradTile.)
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;

namespace {

/// Whether `value`, followed through its only reader while it has one,
/// becomes one summand of a residual sum: the value of a residual branch. A
/// value read twice (a block's input, read by its branch and its shortcut)
/// or read by anything else (a pool, the classifier) ends the search.
bool feedsResidualSum(Value value) {
  while (value.hasOneUse()) {
    Operation *reader = *value.getUsers().begin();
    if (isa<rn::AddOp>(reader))
      return true;
    if (auto conv = dyn_cast<rn::FusedConv2DOp>(reader)) {
      if (conv.getResidual())
        return true; // the branch's last conv adds the shortcut
      value = conv.getResult();
    } else if (auto eltwise = dyn_cast<rn::FusedEltwiseOp>(reader)) {
      if (eltwise.getAddend())
        return true;
      value = eltwise.getResult(); // batch norm or relu within the branch
    } else {
      return false;
    }
  }
  return false;
}

} // namespace

int64_t codegen::inferenceWinogradTile(rn::FusedConv2DOp conv) {
  // F(4x4, 3x3) rounds 10-30 times as coarsely as the direct conv. Added to
  // a shortcut that carries the signal exactly, that error stays small
  // relative to the block's output; a plain network instead passes every
  // layer's error through all the layers after it, and its deep versions
  // amplify it (plain-56's logits moved by 4e-4 of their range).
  return conv.getResidual() || feedsResidualSum(conv.getResult()) ? 4 : 2;
}
