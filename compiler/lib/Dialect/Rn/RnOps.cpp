//===- RnOps.cpp - Verifiers, type inference and folders of rn ops --------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Dialect/Rn/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace resnetc::rn;

#define GET_OP_CLASSES
#include "resnetc/Dialect/Rn/RnOps.cpp.inc"

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Turns a shape rule's answer into an inferred f32 tensor type.
LogicalResult inferred(const ShapeResult &result, std::optional<Location> location,
                       MLIRContext *context, SmallVectorImpl<Type> &types) {
  if (!result.ok())
    return emitOptionalError(location, result.error);
  types.push_back(RankedTensorType::get(result.shape, Float32Type::get(context)));
  return success();
}

} // namespace

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  auto type = cast<RankedTensorType>(getType());
  if (!type.hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

LogicalResult OptimizerStateOp::verify() {
  if (getSlot() != "momentum")
    return emitOpError("unknown slot '") << getSlot() << "' (expected momentum)";
  if (getName().empty())
    return emitOpError("needs the name of its weight");
  if (!cast<RankedTensorType>(getType()).hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

LogicalResult SgdUpdateOp::verify() {
  auto weight = getWeight().getDefiningOp<WeightOp>();
  if (!weight || weight.getState())
    return emitOpError("updates a trainable rn.weight, in place");
  auto state = getMomentumBuffer().getDefiningOp<OptimizerStateOp>();
  if (!state || state.getName() != weight.getName())
    return emitOpError("needs the momentum rn.optimizer_state of '") << weight.getName() << "'";
  if (getMomentum().convertToDouble() < 0 || getWeightDecay().convertToDouble() < 0)
    return emitOpError("needs a non-negative momentum and weight decay");
  return success();
}

LogicalResult RunningStatsUpdateOp::verify() {
  for (Value state : {getRunningMean(), getRunningVar()}) {
    auto weight = state.getDefiningOp<WeightOp>();
    if (!weight || !weight.getState())
      return emitOpError("updates rn.weight state tensors (running statistics), in place");
  }
  if (double momentum = getMomentum().convertToDouble(); momentum < 0 || momentum > 1)
    return emitOpError("needs a momentum in [0, 1]");
  if (getCount() < 2)
    return emitOpError("needs a count of at least 2 (the unbiased variance divides by count - 1)");
  return success();
}

/// The per-channel vector `vector` belongs to `activation` (NCHW).
static LogicalResult checkPerChannel(Operation *op, Value activation, Value vector,
                                     llvm::StringRef what) {
  int64_t channels = shapeOf(activation)[1], size = shapeOf(vector)[0];
  if (channels != size)
    return op->emitOpError() << what << " has " << size << " elements for " << channels
                             << " channels";
  return success();
}

LogicalResult ChannelMeanOp::verify() {
  return checkPerChannel(*this, getInput(), getMean(), "the mean");
}

LogicalResult ChannelVarianceOp::verify() {
  return checkPerChannel(*this, getInput(), getMean(), "the mean");
}

LogicalResult BatchNormNormalizeOp::verify() {
  if (getEpsilon().convertToDouble() <= 0)
    return emitOpError("epsilon must be positive");
  return checkPerChannel(*this, getInput(), getGamma(), "the scale");
}

LogicalResult BatchNormGradSumsOp::verify() {
  return checkPerChannel(*this, getInput(), getMean(), "the mean");
}

LogicalResult BatchNormGradInputOp::verify() {
  return checkPerChannel(*this, getInput(), getGamma(), "the scale");
}

LogicalResult MeanOverRanksOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor op,
                                                SmallVectorImpl<Type> &types) {
  llvm::append_range(types, op.getInputs().getTypes());
  return success();
}

LogicalResult MeanOverRanksOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor to average");
  if (getBucket() < 0)
    return emitOpError("needs a bucket number of at least 0");
  return success();
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                         Adaptor op, SmallVectorImpl<Type> &types) {
  if (op.getBias()) {
    int64_t biasSize = shapeOf(op.getBias())[0];
    if (biasSize != shapeOf(op.getWeight())[0])
      return emitOptionalError(location, "bias has ", biasSize, " elements, the conv has ",
                               shapeOf(op.getWeight())[0], " output channels");
  }
  return inferred(inferConv2d(shapeOf(op.getInput()), shapeOf(op.getWeight()), op.getStrides(),
                              op.getPadding(), op.getDilations().value_or(ArrayRef<int64_t>()),
                              int64_t(op.getGroups())),
                  location, context, types);
}

LogicalResult BatchNormOp::verify() {
  std::string error =
      checkChannelVector(shapeOf(getInput()), shapeOf(getGamma())[0], "scale and shift");
  if (!error.empty())
    return emitOpError(error);
  if (getEpsilon().convertToDouble() <= 0)
    return emitOpError("epsilon must be positive");
  double momentum = getMomentum().convertToDouble();
  if (momentum < 0 || momentum > 1)
    return emitOpError("momentum must lie in [0, 1], got ") << momentum;
  return success();
}

LogicalResult ChannelMulOp::verify() {
  auto input = shapeOf(getInput()), scale = shapeOf(getScale());
  if (scale[0] != input[0] || scale[1] != input[1])
    return emitOpError("scale must be N x C of the input, got ")
           << scale[0] << "x" << scale[1] << " for " << input[0] << "x" << input[1] << "x"
           << input[2] << "x" << input[3];
  return success();
}

LogicalResult SpatialDotOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                             Adaptor op, SmallVectorImpl<Type> &types) {
  auto shape = shapeOf(op.getLhs());
  types.push_back(RankedTensorType::get({shape[0], shape[1]}, Float32Type::get(context)));
  return success();
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError("rate must lie in [0, 1), got ") << rate;
  if (getStream() < 0)
    return emitOpError("stream must not be negative");
  return success();
}

OpFoldResult ReluOp::fold(FoldAdaptor) {
  // relu(relu(x)) == relu(x).
  if (getInput().getDefiningOp<ReluOp>())
    return getInput();
  return {};
}

LogicalResult FusedConv2DOp::inferReturnTypes(MLIRContext *context,
                                              std::optional<Location> location, Adaptor op,
                                              SmallVectorImpl<Type> &types) {
  return inferred(inferConv2d(shapeOf(op.getInput()), shapeOf(op.getWeight()), op.getStrides(),
                              op.getPadding(), op.getDilations().value_or(ArrayRef<int64_t>()),
                              int64_t(op.getGroups())),
                  location, context, types);
}

LogicalResult FusedConv2DOp::verify() {
  if (getBias() && shapeOf(getBias())[0] != shapeOf(getWeight())[0])
    return emitOpError("bias does not match the output channels");
  if (getResidual() && getResidual().getType() != getType())
    return emitOpError("residual must have the output's type");
  return success();
}

LogicalResult FusedEltwiseOp::verify() {
  int statistics = !!getGamma() + !!getBeta() + !!getMean() + !!getVariance();
  if (statistics != 0 && statistics != 4)
    return emitOpError("batch norm needs gamma, beta, mean and variance");
  if ((statistics == 4) != getEpsilon().has_value())
    return emitOpError("epsilon goes with batch norm, and only with it");
  if (statistics == 4) {
    for (Value v : {getGamma(), getBeta(), getMean(), getVariance()})
      if (std::string e = checkChannelVector(shapeOf(getInput()), shapeOf(v)[0], "batch norm");
          !e.empty())
        return emitOpError(e);
  }
  if (getAddend() && getAddend().getType() != getInput().getType())
    return emitOpError("addend must have the input's type");
  if (getOutput().getType() != getInput().getType())
    return emitOpError("output must have the input's type");
  if (statistics == 0 && !getAddend() && !getRelu())
    return emitOpError("does nothing: needs batch norm, an addend or relu");
  return success();
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                            Adaptor op, SmallVectorImpl<Type> &types) {
  return inferred(
      inferMaxPool2d(shapeOf(op.getInput()), op.getKernel(), op.getStrides(), op.getPadding()),
      location, context, types);
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *context,
                                                std::optional<Location> location, Adaptor op,
                                                SmallVectorImpl<Type> &types) {
  return inferred(inferGlobalAvgPool(shapeOf(op.getInput())), location, context, types);
}

LogicalResult DenseOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                        Adaptor op, SmallVectorImpl<Type> &types) {
  if (op.getBias() && shapeOf(op.getBias())[0] != shapeOf(op.getWeight())[0])
    return emitOptionalError(location, "bias has ", shapeOf(op.getBias())[0],
                             " elements, the layer has ", shapeOf(op.getWeight())[0], " outputs");
  return inferred(inferDense(shapeOf(op.getInput()), shapeOf(op.getWeight())), location, context,
                  types);
}

LogicalResult ShortcutOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                           Adaptor op, SmallVectorImpl<Type> &types) {
  return inferred(inferShortcut(shapeOf(op.getInput()), stringifyShortcutKind(op.getKind()),
                                op.getOutChannels(), op.getStride()),
                  location, context, types);
}

LogicalResult ShortcutOp::verify() {
  if (getName().empty())
    return emitOpError("needs a name for its projection weights");
  return success();
}

OpFoldResult ShortcutOp::fold(FoldAdaptor) {
  // A, B and identity shortcuts between equal shapes are the input itself.
  if (!shortcutIsProjection(stringifyShortcutKind(getKind()), 0, 0, 1) && getStride() == 1 &&
      getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ZeroPadShortcutOp::inferReturnTypes(MLIRContext *context,
                                                  std::optional<Location> location, Adaptor op,
                                                  SmallVectorImpl<Type> &types) {
  return inferred(inferZeroPadShortcut(shapeOf(op.getInput()), op.getOutChannels(), op.getStride()),
                  location, context, types);
}

OpFoldResult ZeroPadShortcutOp::fold(FoldAdaptor) {
  // Nothing to subsample and nothing to pad: the identity.
  if (getStride() == 1 && getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult FoldBatchNormOp::inferReturnTypes(MLIRContext *context,
                                                std::optional<Location> location, Adaptor op,
                                                SmallVectorImpl<Type> &types) {
  auto weight = shapeOf(op.getWeight());
  for (Value vector : {op.getGamma(), op.getBeta(), op.getMean(), op.getVariance()})
    if (shapeOf(vector)[0] != weight[0])
      return emitOptionalError(location, "batch-norm vectors have ", shapeOf(vector)[0],
                               " channels, the weight has ", weight[0], " output channels");
  if (op.getBias() && shapeOf(op.getBias())[0] != weight[0])
    return emitOptionalError(location, "bias does not match the weight's output channels");
  types.push_back(op.getWeight().getType());
  types.push_back(op.getGamma().getType());
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(MLIRContext *context,
                                                      std::optional<Location> location, Adaptor op,
                                                      SmallVectorImpl<Type> &types) {
  if (shapeOf(op.getLabels())[0] != shapeOf(op.getLogits())[0])
    return emitOptionalError(location, "expects one label per row of logits, got ",
                             shapeOf(op.getLabels())[0], " labels for ", shapeOf(op.getLogits())[0],
                             " rows");
  types.push_back(RankedTensorType::get({}, Float32Type::get(context)));
  return success();
}

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

namespace {
/// Checks that `expected` (a forward shape rule's answer) is `actual`.
LogicalResult matchesForward(Operation *op, const ShapeResult &forward, ArrayRef<int64_t> actual,
                             StringRef what) {
  if (!forward.ok())
    return op->emitOpError(forward.error);
  if (ArrayRef<int64_t>(forward.shape) != actual)
    return op->emitOpError(what) << " does not match the forward op's output shape";
  return success();
}
} // namespace

LogicalResult BatchNormTrainOp::verify() {
  std::string error =
      checkChannelVector(shapeOf(getInput()), shapeOf(getGamma())[0], "scale and shift");
  if (!error.empty())
    return emitOpError(error);
  if (getEpsilon().convertToDouble() <= 0)
    return emitOpError("epsilon must be positive");
  return success();
}

LogicalResult Conv2DGradInputOp::verify() {
  return matchesForward(*this,
                        inferConv2d(shapeOf(getInputGrad()), shapeOf(getWeight()), getStrides(),
                                    getPadding(), getDilations().value_or(ArrayRef<int64_t>()),
                                    int64_t(getGroups())),
                        shapeOf(getOutputGrad()), "output_grad");
}

LogicalResult Conv2DGradWeightOp::verify() {
  return matchesForward(*this,
                        inferConv2d(shapeOf(getInput()), shapeOf(getWeightGrad()), getStrides(),
                                    getPadding(), getDilations().value_or(ArrayRef<int64_t>()),
                                    int64_t(getGroups())),
                        shapeOf(getOutputGrad()), "output_grad");
}

LogicalResult ChannelSumOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                             Adaptor op, SmallVectorImpl<Type> &types) {
  auto shape = shapeOf(op.getInput());
  if (shape.size() != 2 && shape.size() != 4)
    return emitOptionalError(location, "expects an NxC or NxCxHxW input");
  types.push_back(RankedTensorType::get({shape[1]}, Float32Type::get(context)));
  return success();
}

LogicalResult ScaleOp::verify() {
  int64_t channels = shapeOf(getInput())[1], size = shapeOf(getScale())[0];
  if (channels != size)
    return emitOpError("scales ") << channels << " channels with a vector of " << size;
  return success();
}

LogicalResult ChannelDotOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                             Adaptor op, SmallVectorImpl<Type> &types) {
  auto lhs = shapeOf(op.getLhs()), rhs = shapeOf(op.getRhs());
  if (lhs != rhs)
    return emitOptionalError(location, "expects operands of one shape");
  types.push_back(RankedTensorType::get({lhs[1]}, Float32Type::get(context)));
  return success();
}

LogicalResult DenseGradInputOp::inferReturnTypes(MLIRContext *context,
                                                 std::optional<Location> location, Adaptor op,
                                                 SmallVectorImpl<Type> &types) {
  auto dy = shapeOf(op.getOutputGrad()), w = shapeOf(op.getWeight());
  if (dy[1] != w[0])
    return emitOptionalError(location, "output_grad has ", dy[1], " columns, the weight ", w[0],
                             " rows");
  types.push_back(RankedTensorType::get({dy[0], w[1]}, Float32Type::get(context)));
  return success();
}

LogicalResult DenseGradWeightOp::inferReturnTypes(MLIRContext *context,
                                                  std::optional<Location> location, Adaptor op,
                                                  SmallVectorImpl<Type> &types) {
  auto dy = shapeOf(op.getOutputGrad()), x = shapeOf(op.getInput());
  if (dy[0] != x[0])
    return emitOptionalError(location, "output_grad and input disagree on the batch");
  types.push_back(RankedTensorType::get({dy[1], x[1]}, Float32Type::get(context)));
  return success();
}

LogicalResult MaxPool2DGradOp::verify() {
  if (getInputGrad().getType() != getInput().getType())
    return emitOpError("input_grad must have the input's type");
  return matchesForward(
      *this, inferMaxPool2d(shapeOf(getInput()), getKernel(), getStrides(), getPadding()),
      shapeOf(getOutputGrad()), "output_grad");
}

LogicalResult GlobalAvgPoolGradOp::verify() {
  return matchesForward(*this, inferGlobalAvgPool(shapeOf(getInputGrad())),
                        shapeOf(getOutputGrad()), "output_grad");
}

LogicalResult ZeroPadShortcutGradOp::verify() {
  return matchesForward(
      *this,
      inferZeroPadShortcut(shapeOf(getInputGrad()), shapeOf(getOutputGrad())[1], getStride()),
      shapeOf(getOutputGrad()), "output_grad");
}
