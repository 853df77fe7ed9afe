//===- WinogradRule.cpp - Which Winograd tile a conv may take -------------===//
//
// The compiler's half of the rule in docs/winograd.md: how large an output
// tile the Winograd algorithm of a forward conv may use, at inference and in
// a training step (whether it pays
// at the conv's shape is the target's half: Scheduler::winogradTile), and
// which convs take a filter transformed when the weights load, where the
// compiler must know the tile to size the transformed filter.
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

/// The one op of a training step that reads `value` to compute the forward
/// pass (the gradient ops that also read it do not count), or null where
/// none or several do.
Operation *onlyForwardReader(Value value) {
  Operation *reader = nullptr;
  for (Operation *user : value.getUsers()) {
    if (!isa<rn::DifferentiableOpInterface>(user) || user == reader)
      continue;
    if (reader)
      return nullptr;
    reader = user;
  }
  return reader;
}

/// feedsResidualSum for a training step's forward pass (rn.conv2d,
/// rn.batch_norm_train with its fused residual add, rn.relu, rn.dropout).
bool feedsResidualSumInTraining(Value value) {
  while (Operation *reader = onlyForwardReader(value)) {
    if (isa<rn::AddOp>(reader))
      return true;
    if (auto norm = dyn_cast<rn::BatchNormTrainOp>(reader)) {
      if (norm.getResidual())
        return true; // the branch's last batch norm adds the shortcut
      value = norm.getOutput();
    } else if (isa<rn::Conv2DOp, rn::ReluOp, rn::DropoutOp>(reader)) {
      value = reader->getResult(0);
    } else {
      return false;
    }
  }
  return false;
}

// A transformed filter is alpha^2 / 9 times the size of the direct conv's
// weights, and read once per image (or per row of tiles): with fewer tiles
// than this an image, or more bytes than this, reading it costs more than
// the multiply-adds it saves. (ResNet-50's 512-channel conv on 7x7 at batch
// 1: 1.18 ms direct, 2.4-2.5 ms at F(4x4), 4 tiles and 37.7 MB, or F(2x2), 16
// tiles and 16.8 MB; its 256-channel conv on 14x14, F(4x4) with 16 tiles and
// 9.4 MB: 1.07 ms direct, 0.44-0.56 ms; one thread.)
constexpr int64_t kMinPreparedWinogradTiles = 8;
constexpr int64_t kMaxPreparedWinogradFilterBytes = int64_t(12) << 20;
constexpr int64_t kMaxPreparedWinogradBytesPerTile = int64_t(256) << 10;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace

int64_t codegen::preparedWinogradTile(rn::FusedConv2DOp conv) {
  codegen::Dims weight = codegen::shapeOf(conv.getWeight());
  codegen::Dims out = codegen::shapeOf(conv.getResult());
  if (weight.size() != 4 || weight[2] != 3 || weight[3] != 3 ||
      llvm::any_of(conv.getStrides(), [](int64_t s) { return s != 1; }) || conv.getGroups() != 1 ||
      conv.getDilations())
    return 0;
  // Whole vectors of both channel counts at every CPU width (4, 8, 16).
  if (weight[0] % 16 || weight[1] % 16)
    return 0;
  for (int64_t m = inferenceWinogradTile(conv); m >= 2; m -= 2) {
    const int64_t tiles = ceilDiv(out[3], m) * ceilDiv(out[2], m);
    const int64_t filterBytes = weight[0] * weight[1] * (m + 2) * (m + 2) * 4;
    if (tiles >= kMinPreparedWinogradTiles && filterBytes <= kMaxPreparedWinogradFilterBytes &&
        filterBytes <= tiles * kMaxPreparedWinogradBytesPerTile)
      return m;
  }
  return 0;
}

int64_t codegen::inferenceWinogradTile(rn::FusedConv2DOp conv) {
  // F(4x4, 3x3) rounds 10-30 times as coarsely as the direct conv. Added to
  // a shortcut that carries the signal exactly, that error stays small
  // relative to the block's output; a plain network instead passes every
  // layer's error through all the layers after it, and its deep versions
  // amplify it (plain-56's logits moved by 4e-4 of their range).
  return conv.getResidual() || feedsResidualSum(conv.getResult()) ? 4 : 2;
}

int64_t codegen::trainingWinogradTile(rn::Conv2DOp conv) {
  // As at inference: the branch's error is summed with the shortcut's exact
  // signal. The steps still follow the reference executor's within 5e-6 of
  // each trained tensor's change (the tests allow 1e-3).
  return feedsResidualSumInTraining(conv.getResult()) ? 4 : 2;
}
