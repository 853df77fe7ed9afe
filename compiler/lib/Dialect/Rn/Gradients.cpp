//===- Gradients.cpp - Each op's gradient (DifferentiableOpInterface) -----===//
//
// The backward rule of every differentiable rn op, next to each other so that
// a new op adds its rule here and rn-autodiff stays as it is.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnOps.h"

using namespace mlir;
using namespace resnetc::rn;

#include "resnetc/Dialect/Rn/RnInterfaces.cpp.inc"

LogicalResult Conv2DOp::buildGradients(OpBuilder &builder, Value dy,
                                       GradientAccumulator accumulate) {
  Location loc = getLoc();
  accumulate(getInput(),
             Conv2DGradInputOp::create(builder, loc, getInput().getType(), dy, getWeight(),
                                       /*addend=*/Value(),
                                       /*relu_output=*/Value(), getStridesAttr(), getPaddingAttr(),
                                       getGroupsAttr(), getDilationsAttr()));
  accumulate(getWeight(), Conv2DGradWeightOp::create(builder, loc, getWeight().getType(), dy,
                                                     getInput(), getStridesAttr(), getPaddingAttr(),
                                                     getGroupsAttr(), getDilationsAttr()));
  if (getBias())
    accumulate(getBias(), ChannelSumOp::create(builder, loc, dy));
  return success();
}

LogicalResult BatchNormTrainOp::buildGradients(OpBuilder &builder, Value dy,
                                               GradientAccumulator accumulate) {
  Value reluOutput = getRelu() ? getOutput() : Value(); // a fused relu masks dy
  if (getResidual()) {
    // The residual's gradient is the masked dy itself.
    if (reluOutput)
      dy = ReluGradOp::create(builder, getLoc(), dy, reluOutput);
    reluOutput = Value();
    accumulate(getResidual(), dy);
  }
  auto grad = BatchNormTrainGradOp::create(
      builder, getLoc(), getInput().getType(), getGamma().getType(), getGamma().getType(), dy,
      getInput(), getGamma(), getMean(), getInvStd(), reluOutput);
  accumulate(getInput(), grad.getInputGrad());
  accumulate(getGamma(), grad.getGammaGrad());
  accumulate(getBeta(), grad.getBetaGrad());
  return success();
}

LogicalResult ReluOp::buildGradients(OpBuilder &builder, Value dy, GradientAccumulator accumulate) {
  accumulate(getInput(), ReluGradOp::create(builder, getLoc(), dy, getResult()));
  return success();
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &builder, Value dy,
                                        GradientAccumulator accumulate) {
  accumulate(getInput(), SigmoidGradOp::create(builder, getLoc(), dy, getResult()).getResult());
  return success();
}

LogicalResult ChannelMulOp::buildGradients(OpBuilder &builder, Value dy,
                                           GradientAccumulator accumulate) {
  accumulate(getInput(), ChannelMulOp::create(builder, getLoc(), dy, getScale()).getResult());
  accumulate(getScale(), SpatialDotOp::create(builder, getLoc(), dy, getInput()).getResult());
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &builder, Value dy,
                                        GradientAccumulator accumulate) {
  accumulate(getInput(),
             DropoutOp::create(builder, getLoc(), dy, getRateAttr(), getStreamAttr()).getResult());
  return success();
}

LogicalResult AddOp::buildGradients(OpBuilder &, Value dy, GradientAccumulator accumulate) {
  accumulate(getLhs(), dy);
  accumulate(getRhs(), dy);
  return success();
}

LogicalResult MaxPool2DOp::buildGradients(OpBuilder &builder, Value dy,
                                          GradientAccumulator accumulate) {
  accumulate(getInput(),
             MaxPool2DGradOp::create(builder, getLoc(), getInput().getType(), dy, getInput(),
                                     getKernelAttr(), getStridesAttr(), getPaddingAttr()));
  return success();
}

LogicalResult GlobalAvgPoolOp::buildGradients(OpBuilder &builder, Value dy,
                                              GradientAccumulator accumulate) {
  accumulate(getInput(), GlobalAvgPoolGradOp::create(builder, getLoc(), getInput().getType(), dy));
  return success();
}

LogicalResult DenseOp::buildGradients(OpBuilder &builder, Value dy,
                                      GradientAccumulator accumulate) {
  Location loc = getLoc();
  accumulate(getInput(), DenseGradInputOp::create(builder, loc, dy, getWeight()));
  accumulate(getWeight(), DenseGradWeightOp::create(builder, loc, dy, getInput()));
  if (getBias())
    accumulate(getBias(), ChannelSumOp::create(builder, loc, dy));
  return success();
}

LogicalResult ScaleOp::buildGradients(OpBuilder &builder, Value dy,
                                      GradientAccumulator accumulate) {
  Location loc = getLoc();
  accumulate(getInput(), ScaleOp::create(builder, loc, dy, getScale()));
  accumulate(getScale(), ChannelDotOp::create(builder, loc, dy, getInput()));
  return success();
}

LogicalResult ZeroPadShortcutOp::buildGradients(OpBuilder &builder, Value dy,
                                                GradientAccumulator accumulate) {
  accumulate(getInput(), ZeroPadShortcutGradOp::create(builder, getLoc(), getInput().getType(), dy,
                                                       getStrideAttr()));
  return success();
}
