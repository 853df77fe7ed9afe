//===- KernelShapes.cpp - What a kernel spec means ------------------------===//
//
// The shapes a kernel computes, the buffers it takes in call order, and the
// checks a spec must pass (whether the compiler filled it or it was parsed).
//
//===----------------------------------------------------------------------===//

#include "resnetc/KernelSpec/KernelSpec.h"

#include <cmath>
#include <initializer_list>

namespace resnetc {

namespace {

using Sizes = std::vector<int64_t>;

// Halide indexes buffers with 32-bit arithmetic: keep every buffer's size in
// bytes below 2^31.
constexpr int64_t kMaxElements = (int64_t(1) << 31) / 4 - 1;

int64_t product(const Sizes &sizes) {
  int64_t p = 1;
  for (int64_t s : sizes) {
    p *= s;
    if (p > kMaxElements)
      return kMaxElements + 1;
  }
  return p;
}

// The layouts of targets/kernelgen/README.md, from PyTorch-order shapes.
Sizes nhwc(const Sizes &s) { return {s[1], s[3], s[2], s[0]}; }   // (c, x, y, n)
Sizes nchw(const Sizes &s) { return {s[3], s[2], s[1], s[0]}; }   // (x, y, c, n)
Sizes matrix(const Sizes &s) { return {s[1], s[0]}; }             // (column, row)
Sizes oihw(const Sizes &w) { return {w[3], w[2], w[1], w[0]}; }   // (s, r, c, k)
Sizes packed(const Sizes &w) { return {w[0], w[1], w[3], w[2]}; } // (k, c, s, r)
Sizes flat(const Sizes &s) { return {product(s)}; }
/// A 3x3 filter transformed for F(m x m, 3 x 3): (k, c, u, v), alpha = m + 2.
Sizes winogradFilter(const Sizes &w, int64_t m) { return {w[0], w[1], m + 2, m + 2}; }

KernelArgument in(const char *role, Sizes extents, bool isInt32 = false) {
  return {role, std::move(extents), isInt32, /*isOutput=*/false};
}
KernelArgument out(const char *role, Sizes extents, bool isInt32 = false) {
  return {role, std::move(extents), isInt32, /*isOutput=*/true};
}

} // namespace

int64_t KernelArgument::elements() const { return product(extents); }

std::vector<int64_t> KernelSpec::outputShape() const {
  switch (kind) {
  case KernelKind::NchwToNhwc:
  case KernelKind::NhwcToNchw:
  case KernelKind::BatchNorm:
  case KernelKind::Add:
  case KernelKind::Relu:
  case KernelKind::Scale:
  case KernelKind::BatchNormTrain:
  case KernelKind::BatchNormTrainGrad:
  case KernelKind::BatchNormNormalize:
  case KernelKind::BatchNormGradInput:
  case KernelKind::ReluGrad:
  case KernelKind::Dropout:
  case KernelKind::Sigmoid:
  case KernelKind::SigmoidGrad:
  case KernelKind::ChannelMul:
  case KernelKind::Conv2DGradInput:
  case KernelKind::DenseGradInput:
  case KernelKind::MaxPool2DGrad:
  case KernelKind::GlobalAvgPoolGrad:
  case KernelKind::ZeroPadShortcutGrad:
  case KernelKind::SoftmaxCrossEntropy:
    return input;
  case KernelKind::Conv2DGradWeight:
  case KernelKind::DenseGradWeight:
  case KernelKind::PackConvWeight:
  case KernelKind::FoldPackConvWeight:
  case KernelKind::UnpackConvWeight:
    return weight;
  case KernelKind::ChannelSum:
  case KernelKind::ChannelDot:
  case KernelKind::ChannelMean:
  case KernelKind::ChannelVariance:
  case KernelKind::BatchNormGradSums:
    return {input[1]};
  case KernelKind::SgdUpdate:
    return {size};
  case KernelKind::RunningStatsUpdate:
    return {channels};
  case KernelKind::Conv2D:
    return {input[0], weight[0], slidingWindowExtent(input[2], weight[2], strideH, padH, dilationH),
            slidingWindowExtent(input[3], weight[3], strideW, padW, dilationW)};
  case KernelKind::MaxPool2D:
    return {input[0], input[1], slidingWindowExtent(input[2], kernelH, strideH, padH),
            slidingWindowExtent(input[3], kernelW, strideW, padW)};
  case KernelKind::GlobalAvgPool:
  case KernelKind::SpatialDot:
    return {input[0], input[1]};
  case KernelKind::Dense:
    return {input[0], weight[0]};
  case KernelKind::ZeroPadShortcut:
    return {input[0], outChannels, input[2] / stride, input[3] / stride};
  }
  return {};
}

std::vector<int64_t> KernelSpec::forwardOutputShape() const {
  KernelSpec forward = *this;
  switch (kind) {
  case KernelKind::Conv2DGradInput:
  case KernelKind::Conv2DGradWeight:
    forward.kind = KernelKind::Conv2D;
    break;
  case KernelKind::MaxPool2DGrad:
    forward.kind = KernelKind::MaxPool2D;
    break;
  case KernelKind::DenseGradInput:
  case KernelKind::DenseGradWeight:
    forward.kind = KernelKind::Dense;
    break;
  case KernelKind::GlobalAvgPoolGrad:
    forward.kind = KernelKind::GlobalAvgPool;
    break;
  case KernelKind::ZeroPadShortcutGrad:
    forward.kind = KernelKind::ZeroPadShortcut;
    break;
  default:
    return {};
  }
  return forward.outputShape();
}

std::vector<KernelArgument> KernelSpec::arguments() const {
  const Sizes result = outputShape(), forwardOut = forwardOutputShape();
  const int64_t channels4d = input.size() == 4 ? input[1] : 0;
  const Sizes perChannel{channels4d};
  std::vector<KernelArgument> args;
  auto perChannelInputs = [&](std::initializer_list<const char *> roles) {
    for (const char *role : roles)
      args.push_back(in(role, perChannel));
  };
  switch (kind) {
  case KernelKind::NchwToNhwc:
    return {in("input", nchw(input)), out("output", nhwc(input))};
  case KernelKind::NhwcToNchw:
    return {in("input", nhwc(input)), out("output", nchw(input))};
  case KernelKind::Conv2D:
    args = {in("input", nhwc(input)),
            in("weight", winogradWeights  ? flat(winogradFilter(weight, winogradTile))
                         : blockedWeights ? flat(weight)
                                          : packed(weight))};
    if (bias)
      args.push_back(in("bias", {weight[0]}));
    if (residual)
      args.push_back(in("residual", nhwc(result)));
    args.push_back(out("output", nhwc(result)));
    return args;
  case KernelKind::BatchNorm:
    args = {in("input", nhwc(input))};
    perChannelInputs({"gamma", "beta", "mean", "variance"});
    args.push_back(out("output", nhwc(input)));
    return args;
  case KernelKind::Add:
    return {in("lhs", nhwc(input)), in("rhs", nhwc(input)), out("output", nhwc(input))};
  case KernelKind::Relu:
    return {in("input", nhwc(input)), out("output", nhwc(input))};
  case KernelKind::MaxPool2D:
  case KernelKind::ZeroPadShortcut:
    return {in("input", nhwc(input)), out("output", nhwc(result))};
  case KernelKind::Scale:
    return {in("input", nhwc(input)), in("scale", perChannel), out("output", nhwc(input))};
  case KernelKind::GlobalAvgPool:
    return {in("input", nhwc(input)), out("output", matrix(result))};
  case KernelKind::Dense:
    args = {in("input", matrix(input)), in("weight", matrix(weight))};
    if (bias)
      args.push_back(in("bias", {weight[0]}));
    args.push_back(out("output", matrix(result)));
    return args;
  case KernelKind::PackConvWeight:
    return {in("weight", oihw(weight)), out("output", packed(weight))};
  case KernelKind::UnpackConvWeight:
    return {in("weight", packed(weight)), out("output", oihw(weight))};
  case KernelKind::FoldPackConvWeight: {
    const Sizes outChannels{weight[0]};
    args = {in("weight", oihw(weight))};
    if (bias)
      args.push_back(in("bias", outChannels));
    for (const char *role : {"gamma", "beta", "mean", "variance"})
      args.push_back(in(role, outChannels));
    args.push_back(out("folded_weight", winogradFilterTile > 0
                                            ? flat(winogradFilter(weight, winogradFilterTile))
                                        : blockedForQ > 0 ? flat(weight)
                                                          : packed(weight)));
    args.push_back(out("folded_bias", outChannels));
    return args;
  }
  case KernelKind::BatchNormTrain:
    args = {in("input", nhwc(input))};
    perChannelInputs({"gamma", "beta"});
    if (residual)
      args.push_back(in("residual", nhwc(input)));
    args.push_back(out("output", nhwc(input)));
    args.push_back(out("mean", perChannel));
    args.push_back(out("inv_std", perChannel));
    return args;
  case KernelKind::BatchNormTrainGrad:
    args = {in("output_grad", nhwc(input)), in("input", nhwc(input))};
    perChannelInputs({"gamma", "mean", "inv_std"});
    if (relu)
      args.push_back(in("output", nhwc(input)));
    args.push_back(out("input_grad", nhwc(input)));
    args.push_back(out("gamma_grad", perChannel));
    args.push_back(out("beta_grad", perChannel));
    return args;
  case KernelKind::ReluGrad:
    return {in("output_grad", nhwc(input)), in("output", nhwc(input)),
            out("input_grad", nhwc(input))};
  case KernelKind::ChannelMean:
    return {in("input", nhwc(input)), out("mean", perChannel)};
  case KernelKind::ChannelVariance:
    return {in("input", nhwc(input)), in("mean", perChannel), out("variance", perChannel)};
  case KernelKind::BatchNormNormalize:
    args = {in("input", nhwc(input))};
    perChannelInputs({"gamma", "beta", "mean", "variance"});
    args.push_back(out("output", nhwc(input)));
    args.push_back(out("inv_std", perChannel));
    return args;
  case KernelKind::BatchNormGradSums:
  case KernelKind::BatchNormGradInput:
    args = {in("output_grad", nhwc(input)), in("input", nhwc(input))};
    if (kind == KernelKind::BatchNormGradSums)
      perChannelInputs({"mean", "inv_std"});
    else
      perChannelInputs({"gamma", "mean", "inv_std", "gamma_grad", "beta_grad"});
    if (relu)
      args.push_back(in("output", nhwc(input)));
    if (kind == KernelKind::BatchNormGradSums) {
      args.push_back(out("gamma_grad", perChannel));
      args.push_back(out("beta_grad", perChannel));
    } else {
      args.push_back(out("input_grad", nhwc(input)));
    }
    return args;
  case KernelKind::Conv2DGradInput:
    args = {in("output_grad", nhwc(forwardOut)), in("weight", packed(weight))};
    if (residual)
      args.push_back(in("addend", nhwc(input)));
    if (relu)
      args.push_back(in("relu_output", nhwc(input)));
    args.push_back(out("input_grad", nhwc(input)));
    return args;
  case KernelKind::Conv2DGradWeight:
    return {in("output_grad", nhwc(forwardOut)), in("input", nhwc(input)),
            out("weight_grad", packed(weight))};
  case KernelKind::Sigmoid:
    return {in("input", nhwc(input)), out("output", nhwc(input))};
  case KernelKind::SigmoidGrad:
    return {in("output_grad", nhwc(input)), in("output", nhwc(input)),
            out("input_grad", nhwc(input))};
  case KernelKind::ChannelMul:
    return {in("input", nhwc(input)), in("scale", matrix({input[0], input[1]})),
            out("output", nhwc(input))};
  case KernelKind::SpatialDot:
    return {in("lhs", nhwc(input)), in("rhs", nhwc(input)),
            out("output", matrix({input[0], input[1]}))};
  case KernelKind::Dropout:
    // seed: {seed, step} (int32), the training scalars' dropout slot.
    return {in("input", nhwc(input)), in("seed", {2}, /*isInt32=*/true),
            out("output", nhwc(input))};
  case KernelKind::ChannelSum:
    return {in("input", input.size() == 4 ? nhwc(input) : matrix(input)),
            out("output", {input[1]})};
  case KernelKind::ChannelDot:
    return {in("lhs", nhwc(input)), in("rhs", nhwc(input)), out("output", perChannel)};
  case KernelKind::DenseGradInput:
    return {in("output_grad", matrix(forwardOut)), in("weight", matrix(weight)),
            out("input_grad", matrix(input))};
  case KernelKind::DenseGradWeight:
    return {in("output_grad", matrix(forwardOut)), in("input", matrix(input)),
            out("weight_grad", matrix(weight))};
  case KernelKind::MaxPool2DGrad:
    return {in("output_grad", nhwc(forwardOut)), in("input", nhwc(input)),
            out("input_grad", nhwc(input))};
  case KernelKind::GlobalAvgPoolGrad:
    return {in("output_grad", matrix(forwardOut)), out("input_grad", nhwc(input))};
  case KernelKind::ZeroPadShortcutGrad:
    return {in("output_grad", nhwc(forwardOut)), out("input_grad", nhwc(input))};
  case KernelKind::SoftmaxCrossEntropy:
    return {in("logits", matrix(input)), in("labels", {input[0]}, /*isInt32=*/true),
            out("loss", {1}), out("logits_grad", matrix(input)),
            out("correct", {1}, /*isInt32=*/true)};
  case KernelKind::SgdUpdate:
    return {in("weight", {size}),      in("momentum_buffer", {size}),
            in("grad", {size}),        in("lr", {1}),
            out("new_weight", {size}), out("new_momentum_buffer", {size})};
  case KernelKind::RunningStatsUpdate:
    return {in("running_mean", {channels}),
            in("running_var", {channels}),
            in("mean", {channels}),
            in("inv_std", {channels}),
            out("new_running_mean", {channels}),
            out("new_running_var", {channels})};
  }
  return args;
}

bool checkKernelSpec(const KernelSpec &spec, std::string &error) {
  auto fail = [&](const std::string &message) {
    error = message;
    return false;
  };
  auto shape = [](const Sizes &sizes) {
    std::string text;
    for (size_t i = 0; i < sizes.size(); ++i)
      text += (i ? "x" : "") + std::to_string(sizes[i]);
    return text;
  };
  const KernelKind kind = spec.kind;
  auto is = [&](std::initializer_list<KernelKind> kinds) {
    for (KernelKind k : kinds)
      if (k == kind)
        return true;
    return false;
  };
  const bool dense =
      is({KernelKind::Dense, KernelKind::DenseGradInput, KernelKind::DenseGradWeight});
  const bool usesInput =
      !is({KernelKind::PackConvWeight, KernelKind::FoldPackConvWeight, KernelKind::UnpackConvWeight,
           KernelKind::SgdUpdate, KernelKind::RunningStatsUpdate});
  const bool usesWeight =
      dense || is({KernelKind::Conv2D, KernelKind::Conv2DGradInput, KernelKind::Conv2DGradWeight,
                   KernelKind::PackConvWeight, KernelKind::FoldPackConvWeight,
                   KernelKind::UnpackConvWeight});
  const bool windowed =
      is({KernelKind::Conv2D, KernelKind::Conv2DGradInput, KernelKind::Conv2DGradWeight,
          KernelKind::MaxPool2D, KernelKind::MaxPool2DGrad});
  auto checkSizes = [&](const char *key, const Sizes &sizes, std::initializer_list<size_t> ranks) {
    bool rankOk = false;
    for (size_t rank : ranks)
      rankOk |= sizes.size() == rank;
    if (!rankOk)
      return fail(std::string(key) + " '" + shape(sizes) + "' has " + std::to_string(sizes.size()) +
                  " sizes, expected " + std::to_string(*ranks.begin()) +
                  (ranks.size() > 1 ? " or 4" : ""));
    for (int64_t v : sizes)
      if (v < 1)
        return fail(std::string(key) + " '" + shape(sizes) + "' has a size below 1");
    if (product(sizes) > kMaxElements)
      return fail(std::string(key) + " '" + shape(sizes) + "' has 2^29 elements or more");
    return true;
  };
  const bool matrixInput = dense || kind == KernelKind::SoftmaxCrossEntropy;
  if (usesInput) {
    bool ok = kind == KernelKind::ChannelSum ? checkSizes("input", spec.input, {2, 4})
              : matrixInput                  ? checkSizes("input", spec.input, {2})
                                             : checkSizes("input", spec.input, {4});
    if (!ok)
      return false;
  }
  if (usesWeight && !checkSizes("weight", spec.weight, {dense ? size_t(2) : size_t(4)}))
    return false;
  if (windowed) {
    if (spec.strideH < 1 || spec.strideW < 1)
      return fail("strides must be positive");
    if (spec.padH < 0 || spec.padW < 0)
      return fail("padding must not be negative");
  }
  auto finiteNonNegative = [](float v) { return std::isfinite(v) && v >= 0.0f; };
  switch (kind) {
  case KernelKind::Conv2D:
  case KernelKind::Conv2DGradInput:
  case KernelKind::Conv2DGradWeight:
    if (spec.groups < 1 || spec.dilationH < 1 || spec.dilationW < 1)
      return fail("groups and dilation must be positive");
    if (spec.input[1] % spec.groups != 0 || spec.weight[0] % spec.groups != 0)
      return fail("groups must divide the input's and the output's channels");
    if (spec.weight[1] * spec.groups != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) + " input channels" +
                  (spec.groups > 1 ? " per group" : "") + " but the input has " +
                  std::to_string(spec.input[1]));
    if (spec.input[2] + 2 * spec.padH < (spec.weight[2] - 1) * spec.dilationH + 1 ||
        spec.input[3] + 2 * spec.padW < (spec.weight[3] - 1) * spec.dilationW + 1)
      return fail("kernel is larger than the padded input");
    if (spec.blockedWeights && spec.isGroupedOrDilated())
      return fail("grouped and dilated convs take packed weights");
    if (spec.winogradTile != 2 && spec.winogradTile != 4)
      return fail("winograd must be 2 or 4 (the largest output tile)");
    if (spec.winogradTile != 2 && !spec.isWinogradShape())
      return fail("winograd=4 is for 3x3 convs at stride 1 without groups or dilation");
    if (spec.winogradWeights && !spec.isWinogradShape())
      return fail("weights=winograd is for 3x3 convs at stride 1 without groups or dilation");
    if (spec.winogradWeights && spec.blockedWeights)
      return fail("weights are either blocked or winograd");
    if (spec.winogradWeights && (spec.weight[0] < 4 || spec.weight[1] < 4))
      return fail("weights=winograd needs 4 input and 4 output channels at least");
    if (spec.winogradWeights &&
        product(winogradFilter(spec.weight, spec.winogradTile)) > kMaxElements)
      return fail("the transformed filter has 2^29 elements or more");
    break;
  case KernelKind::MaxPool2D:
  case KernelKind::MaxPool2DGrad:
    if (spec.kernelH < 1 || spec.kernelW < 1)
      return fail("the pooling kernel must be positive");
    if (2 * spec.padH > spec.kernelH || 2 * spec.padW > spec.kernelW)
      return fail("padding must be at most half the pooling kernel");
    if (spec.input[2] + 2 * spec.padH < spec.kernelH ||
        spec.input[3] + 2 * spec.padW < spec.kernelW)
      return fail("pooling kernel is larger than the padded input");
    break;
  case KernelKind::Dense:
  case KernelKind::DenseGradInput:
  case KernelKind::DenseGradWeight:
    if (spec.weight[1] != spec.input[1])
      return fail("weight has " + std::to_string(spec.weight[1]) +
                  " input features but the input has " + std::to_string(spec.input[1]));
    break;
  case KernelKind::ZeroPadShortcut:
  case KernelKind::ZeroPadShortcutGrad:
    if (spec.outChannels < 1 || spec.stride < 1)
      return fail("out_channels and stride must be positive");
    if (spec.outChannels < spec.input[1])
      return fail("out_channels is smaller than the input's channels");
    if (spec.input[2] / spec.stride < 1 || spec.input[3] / spec.stride < 1)
      return fail("stride is larger than the input");
    break;
  case KernelKind::BatchNorm:
  case KernelKind::BatchNormTrain:
  case KernelKind::BatchNormNormalize:
  case KernelKind::FoldPackConvWeight:
    if (!finiteNonNegative(spec.epsilon))
      return fail("epsilon must be a finite non-negative float");
    if (kind == KernelKind::FoldPackConvWeight &&
        (spec.blockedForQ < 0 || spec.blockedForP < 0 ||
         (spec.blockedForQ > 0) != (spec.blockedForP > 0)))
      return fail("blocked_for must be two positive sizes");
    if (kind == KernelKind::FoldPackConvWeight && spec.winogradFilterTile != 0) {
      if (spec.winogradFilterTile != 2 && spec.winogradFilterTile != 4)
        return fail("winograd_filter must be 2 or 4 (the output tile)");
      if (spec.weight[2] != 3 || spec.weight[3] != 3)
        return fail("winograd_filter is for 3x3 filters");
      if (spec.blockedForQ > 0)
        return fail("blocked_for and winograd_filter exclude each other");
      if (product(winogradFilter(spec.weight, spec.winogradFilterTile)) > kMaxElements)
        return fail("the transformed filter has 2^29 elements or more");
    }
    break;
  case KernelKind::RunningStatsUpdate:
    if (spec.channels < 1)
      return fail("channels must be positive");
    if (spec.count < 2)
      return fail("count must be at least 2 (the unbiased variance divides by count - 1)");
    if (!finiteNonNegative(spec.epsilon) || !finiteNonNegative(spec.momentum) ||
        spec.momentum > 1.0f)
      return fail("momentum must be in [0, 1] and epsilon finite and non-negative");
    break;
  case KernelKind::Dropout:
    if (!(spec.rate >= 0.0f && spec.rate < 1.0f))
      return fail("rate must lie in [0, 1)");
    if (spec.stream < 0 || spec.stream > 0xFFFFFFFFll)
      return fail("stream must be a 32-bit unsigned number");
    break;
  case KernelKind::SgdUpdate:
    if (spec.size < 1 || spec.size > kMaxElements)
      return fail("size must be between 1 and 2^29 - 1");
    if (!finiteNonNegative(spec.momentum) || !finiteNonNegative(spec.weightDecay))
      return fail("momentum and weight_decay must be finite and non-negative");
    break;
  default:
    break;
  }
  if ((spec.blockedWeights || spec.winogradWeights) && kind != KernelKind::Conv2D)
    return fail("only conv2d takes blocked or winograd weights");
  if (spec.winogradFilterTile != 0 && kind != KernelKind::FoldPackConvWeight)
    return fail("only fold_pack_conv_weight takes winograd_filter=");
  if (spec.winogradTile != 2 && kind != KernelKind::Conv2D)
    return fail("only conv2d takes winograd=");
  if (product(spec.outputShape()) > kMaxElements)
    return fail("output has 2^29 elements or more");
  if (product(spec.forwardOutputShape()) > kMaxElements)
    return fail("output_grad has 2^29 elements or more");
  return true;
}

} // namespace resnetc
