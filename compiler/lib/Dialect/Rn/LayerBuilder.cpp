//===- LayerBuilder.cpp - Build rn layers together with their weights -----===//

#include "resnetc/Dialect/Rn/LayerBuilder.h"

using namespace mlir;
using namespace resnetc::rn;

Location resnetc::rn::layerLoc(Location loc, StringRef name) {
  return NameLoc::get(StringAttr::get(loc.getContext(), name), loc);
}

std::string resnetc::rn::layerNameOf(Operation *op) {
  Location loc = op->getLoc();
  while (auto fused = dyn_cast<FusedLoc>(loc))
    loc = fused.getLocations().front();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

Value LayerBuilder::weight(Location loc, StringRef name, ArrayRef<int64_t> shape, StringRef init,
                           bool state) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  std::optional<WeightInit> kind = symbolizeWeightInit(init);
  assert(kind && "an initialiser the dialect knows");
  auto op = WeightOp::create(builder, loc, type, name, *kind, state);
  return op.getResult();
}

Value LayerBuilder::conv(Location loc, Value input, StringRef name, const ConvSpec &spec) {
  int64_t channels = cast<RankedTensorType>(input.getType()).getDimSize(1);
  Value w = weight(loc, (name + ".weight").str(),
                   {spec.width, channels / spec.groups, spec.kernelH, spec.kernelW}, "he_normal");
  Value b = spec.bias ? weight(loc, (name + ".bias").str(), {spec.width}, "zeros") : Value();
  DenseI64ArrayAttr dilations = spec.dilation == 1
                                    ? DenseI64ArrayAttr()
                                    : builder.getDenseI64ArrayAttr({spec.dilation, spec.dilation});
  auto op = Conv2DOp::create(builder, layerLoc(loc, name), input, w, b,
                             builder.getDenseI64ArrayAttr({spec.stride, spec.stride}),
                             builder.getDenseI64ArrayAttr({spec.paddingH, spec.paddingW}),
                             uint64_t(spec.groups), dilations, spec.shortcut);
  return op.getResult();
}

Value LayerBuilder::batchNorm(Location loc, Value input, StringRef name) {
  int64_t channels = cast<RankedTensorType>(input.getType()).getDimSize(1);
  Value gamma = weight(loc, (name + ".weight").str(), {channels}, "ones");
  Value beta = weight(loc, (name + ".bias").str(), {channels}, "zeros");
  Value mean = weight(loc, (name + ".running_mean").str(), {channels}, "zeros", true);
  Value variance = weight(loc, (name + ".running_var").str(), {channels}, "ones", true);
  auto op =
      BatchNormOp::create(builder, layerLoc(loc, name), input.getType(), input, gamma, beta, mean,
                          variance, builder.getF64FloatAttr(1e-5), builder.getF64FloatAttr(0.1));
  return op.getResult();
}

Value LayerBuilder::scale(Location loc, Value input, StringRef name) {
  int64_t channels = cast<RankedTensorType>(input.getType()).getDimSize(1);
  Value scale = weight(loc, (name + ".weight").str(), {channels}, "ones");
  return ScaleOp::create(builder, layerLoc(loc, name), input, scale).getResult();
}

Value LayerBuilder::dense(Location loc, Value input, StringRef name, int64_t outputs) {
  int64_t features = cast<RankedTensorType>(input.getType()).getDimSize(1);
  Value w = weight(loc, (name + ".weight").str(), {outputs, features}, "fc_uniform");
  Value b = weight(loc, (name + ".bias").str(), {outputs}, "zeros");
  return DenseOp::create(builder, layerLoc(loc, name), input, w, b).getResult();
}
