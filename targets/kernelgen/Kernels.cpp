//===- Kernels.cpp - Target-independent Halide algorithms -----------------===//

#include "Kernels.h"
#include "KernelsInternal.h"

#include <stdexcept>

namespace resnetc::kernelgen {

using namespace Halide;
using namespace detail;

Scheduler::~Scheduler() = default;

void Scheduler::scheduleWinograd(WinogradStages &st) const {
  for (Func f : {st.filter, st.sourceTile, st.data, st.product})
    f.compute_root();
}

void Scheduler::scheduleGroupedConvBlock(GroupedConvBlockStages &st) const {
  for (Func f : {st.packedWeight, st.staged, st.acc})
    f.compute_root();
}

KernelPipeline buildNchwToNhwc(const KernelSpec &spec, const Scheduler &sched) {
  const auto &s = spec.input;
  int N = i32(s[0]), C = i32(s[1]), H = i32(s[2]), W = i32(s[3]);
  ImageParam input = makeInput("input", {W, H, C, N});
  LayoutStages st;
  st.output = Func("output");
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  st.C = C;
  st.W = W;
  st.H = H;
  st.N = N;
  st.output(st.c, st.x, st.y, st.n) = input(st.x, st.y, st.c, st.n);
  constrainDense(st.output.output_buffer(), {C, W, H, N});
  sched.scheduleLayout(st);
  return finish({st.output}, {input});
}

KernelPipeline buildNhwcToNchw(const KernelSpec &spec, const Scheduler &sched) {
  const auto &s = spec.input;
  int N = i32(s[0]), C = i32(s[1]), H = i32(s[2]), W = i32(s[3]);
  ImageParam input = makeInput("input", {C, W, H, N});
  LayoutStages st;
  st.output = Func("output");
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  st.C = C;
  st.W = W;
  st.H = H;
  st.N = N;
  st.toNchw = true;
  st.output(st.x, st.y, st.c, st.n) = input(st.c, st.x, st.y, st.n);
  constrainDense(st.output.output_buffer(), {W, H, C, N});
  sched.scheduleLayout(st);
  return finish({st.output}, {input});
}

KernelPipeline buildConv2D(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> out = spec.outputShape();
  Conv2DStages st;
  setConvGeometry(st, spec, out);

  ImageParam input = makeInput("input", {st.C, st.W, st.H, st.N});
  std::vector<ImageParam> inputs = {input};
  Func winogradFilter;
  if (spec.winogradWeights) {
    if (!sched.takesWinogradWeights())
      throw std::invalid_argument("this target has no Winograd schedule for weights=winograd");
    const int alpha = int(spec.winogradTile) + 2;
    ImageParam blocks = makeInput("weight", {st.K * st.C * alpha * alpha});
    inputs.push_back(blocks);
    winogradFilter = winogradFilterView(blocks, st.K, st.C, alpha, sched.winogradFilterBlock(st.K));
  } else if (spec.blockedWeights) {
    st.weightBlock = sched.convWeightBlock(st.K, st.C, st.Q, st.P);
    ImageParam blocked = makeInput("weight", {st.K * st.C * st.S * st.R});
    inputs.push_back(blocked);
    Var k("k"), c("c"), s("s"), r("r");
    const int B = st.weightBlock;
    st.weight = Func("weight_view");
    Expr column = c + st.C * (s + st.S * r);
    // B = K is the packed layout: no division left for the loads to undo.
    st.weight(k, c, s, r) = B == st.K
                                ? blocked(k + B * column)
                                : blocked(k % B + B * (column + st.C * st.S * st.R * (k / B)));
  } else {
    ImageParam packed = makeInput("weight", {st.K, st.C, st.S, st.R});
    inputs.push_back(packed);
    st.weight = packed;
  }
  ImageParam bias = optionalInput(spec.bias, "bias", {st.K}, inputs);
  ImageParam residual = optionalInput(spec.residual, "residual", {st.K, st.Q, st.P, st.N}, inputs);

  st.k = Var("k");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  Var c("c");
  const Var &k = st.k, &x = st.x, &y = st.y, &n = st.n;

  if (st.strideH == 1 && st.strideW == 1 && st.S == 3 && st.R == 3) {
    WinogradProblem problem;
    problem.Co = st.K;
    problem.Ci = st.C;
    problem.W = st.Q;
    problem.H = st.P;
    problem.N = st.N;
    problem.sourceW = st.W;
    problem.sourceH = st.H;
    problem.padX = st.padW;
    problem.padY = st.padH;
    problem.source = input;
    // F(2x2, 3x3) unless the compiler allows F(4x4, 3x3) (docs/winograd.md).
    problem.largestTile = int(spec.winogradTile);
    if (spec.winogradWeights)
      problem.preparedFilter = winogradFilter;
    else
      problem.tap = [&](Expr co, Expr ci, Expr a, Expr b) { return st.weight(co, ci, a, b); };
    problem.epilogue = [&](Expr value) {
      if (spec.bias)
        value = value + bias(k);
      if (spec.residual)
        value = value + residual(k, x, y, n);
      return maybeRelu(value, spec.relu);
    };
    problem.co = k;
    problem.x = x;
    problem.y = y;
    problem.n = n;
    // A filter transformed at load time fixes the tile.
    if (int m = spec.winogradWeights ? problem.largestTile : chooseWinogradTile(sched, problem)) {
      WinogradStages wino = winogradConv3x3(problem, m);
      constrainDense(wino.output.output_buffer(), {st.K, st.Q, st.P, st.N});
      sched.scheduleWinograd(wino);
      return finish({wino.output}, inputs);
    }
  }

  st.r = RDom(0, st.C, 0, st.S, 0, st.R, "r");
  st.skipPaddingTaps = (st.padH || st.padW) && sched.skipsConvPaddingTaps(st);
  // Zero padding on x and y only (never on channels or images). Where the
  // reduction skips the padding taps it reads only inside the image, and the
  // schedule reads the input in place: clamped coordinates then, which tell
  // bounds inference so (it does not read the predicate) and which fold away
  // wherever the predicate already holds.
  st.inputTile = Func("input_tile");
  if (st.padH || st.padW) {
    Region bounds(4);
    if (st.padW)
      bounds[1] = Range(0, st.W);
    if (st.padH)
      bounds[2] = Range(0, st.H);
    Func padded = st.skipPaddingTaps ? BoundaryConditions::repeat_edge(input, bounds)
                                     : BoundaryConditions::constant_exterior(input, 0.0f, bounds);
    st.inputTile(c, x, y, n) = padded(c, x, y, n);
  } else {
    st.inputTile(c, x, y, n) = input(c, x, y, n);
  }
  if (st.skipPaddingTaps) {
    Expr inX = x * st.strideW + st.r.y - st.padW, inY = y * st.strideH + st.r.z - st.padH;
    st.r.where(inX >= 0 && inX < st.W && inY >= 0 && inY < st.H);
  }
  const RDom &r = st.r;
  st.conv = Func("conv");
  st.conv(k, x, y, n) = spec.bias ? Expr(bias(k)) : Expr(0.0f);
  st.conv(k, x, y, n) +=
      st.weight(k, r.x, r.y, r.z) *
      st.inputTile(r.x, x * st.strideW + r.y - st.padW, y * st.strideH + r.z - st.padH, n);

  Expr value = st.conv(k, x, y, n);
  if (spec.residual)
    value = value + residual(k, x, y, n);
  st.output = Func("output");
  st.output(k, x, y, n) = maybeRelu(value, spec.relu);
  constrainDense(st.output.output_buffer(), {st.K, st.Q, st.P, st.N});

  sched.scheduleConv2D(st);
  return finish({st.output}, inputs);
}

KernelPipeline buildBatchNorm(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ImageParam gamma = makeInput("gamma", {st.C});
  ImageParam beta = makeInput("beta", {st.C});
  ImageParam mean = makeInput("mean", {st.C});
  ImageParam variance = makeInput("variance", {st.C});
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;

  Func scale("scale");
  scale(c) = gamma(c) / sqrt(variance(c) + Expr(spec.epsilon));
  st.perChannel.push_back(scale);
  st.output(c, x, y, n) = maybeRelu((input(c, x, y, n) - mean(c)) * scale(c) + beta(c), spec.relu);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input, gamma, beta, mean, variance});
}

KernelPipeline buildAdd(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam lhs = makeInput("lhs", ext);
  ImageParam rhs = makeInput("rhs", ext);
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = maybeRelu(lhs(c, x, y, n) + rhs(c, x, y, n), spec.relu);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {lhs, rhs});
}

KernelPipeline buildRelu(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = max(input(c, x, y, n), 0.0f);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input});
}

KernelPipeline buildScale(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ImageParam scale = makeInput("scale", {ext[0]});
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = input(c, x, y, n) * scale(c);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input, scale});
}

KernelPipeline buildMaxPool2D(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> out = spec.outputShape();
  std::vector<int> inExt = nhwc(spec.input);
  ImageParam input = makeInput("input", inExt);
  MaxPoolStages st;
  st.N = i32(out[0]);
  st.C = i32(out[1]);
  st.P = i32(out[2]);
  st.Q = i32(out[3]);
  st.R = i32(spec.kernelH);
  st.S = i32(spec.kernelW);
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;

  // Padded positions hold -infinity, so they never win.
  Region bounds(4);
  bounds[1] = Range(0, inExt[1]);
  bounds[2] = Range(0, inExt[2]);
  Func padded = BoundaryConditions::constant_exterior(input, Float(32).min(), bounds);

  st.r = RDom(0, i32(spec.kernelW), 0, i32(spec.kernelH), "r");
  st.pool = Func("pool");
  st.pool(c, x, y, n) = Float(32).min();
  st.pool(c, x, y, n) =
      max(st.pool(c, x, y, n), padded(c, x * i32(spec.strideW) + st.r.x - i32(spec.padW),
                                      y * i32(spec.strideH) + st.r.y - i32(spec.padH), n));
  st.output = Func("output");
  st.output(c, x, y, n) = st.pool(c, x, y, n);
  constrainDense(st.output.output_buffer(), {st.C, st.Q, st.P, st.N});
  sched.scheduleMaxPool(st);
  return finish({st.output}, {input});
}

KernelPipeline buildGlobalAvgPool(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  GlobalAvgPoolStages st =
      spatialSum(ext, [&](Expr c, Expr x, Expr y, Expr n) { return input(c, x, y, n); });
  st.output(st.c, st.n) = st.sum(st.c, st.n) / Expr(float(st.W * st.H));
  constrainDense(st.output.output_buffer(), {st.C, st.N});
  sched.scheduleGlobalAvgPool(st);
  return finish({st.output}, {input});
}

KernelPipeline buildDense(const KernelSpec &spec, const Scheduler &sched) {
  DenseStages st;
  st.N = i32(spec.input[0]);
  st.C = i32(spec.input[1]);
  st.K = i32(spec.weight[0]);
  ImageParam input = makeInput("input", {st.C, st.N});
  ImageParam weight = makeInput("weight", {st.C, st.K});
  std::vector<ImageParam> inputs = {input, weight};
  ImageParam bias = optionalInput(spec.bias, "bias", {st.K}, inputs);
  st.k = Var("k");
  st.n = Var("n");
  st.r = RDom(0, st.C, "r");
  st.output = Func("output");
  st.output(st.k, st.n) = spec.bias ? Expr(bias(st.k)) : Expr(0.0f);
  st.output(st.k, st.n) += input(st.r, st.n) * weight(st.r, st.k);
  constrainDense(st.output.output_buffer(), {st.K, st.N});
  sched.scheduleDense(st);
  return finish({st.output}, inputs);
}

KernelPipeline buildZeroPadShortcut(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> out = spec.outputShape();
  ElementwiseStages st = elementwiseFrame(out);
  std::vector<int> inExt = nhwc(spec.input);
  ImageParam input = makeInput("input", inExt);
  const int C = inExt[0], stride = i32(spec.stride);
  const int lo = (st.C - C) / 2;
  const Var &k = st.c, &x = st.x, &y = st.y, &n = st.n;
  Expr inside = k >= lo && k < lo + C;
  st.output(k, x, y, n) =
      select(inside, input(clamp(k - lo, 0, C - 1), x * stride, y * stride, n), 0.0f);
  constrainDense(st.output.output_buffer(), {st.C, st.W, st.H, st.N});
  sched.scheduleElementwise(st);
  return finish({st.output}, {input});
}

namespace {

PackStages packFrame(const KernelSpec &spec) {
  PackStages st;
  st.K = i32(spec.weight[0]);
  st.C = i32(spec.weight[1]);
  st.R = i32(spec.weight[2]);
  st.S = i32(spec.weight[3]);
  st.k = Var("k");
  st.c = Var("c");
  st.s = Var("s");
  st.r = Var("r");
  return st;
}

} // namespace

KernelPipeline buildPackConvWeight(const KernelSpec &spec, const Scheduler &sched) {
  PackStages st = packFrame(spec);
  ImageParam weight = makeInput("weight", {st.S, st.R, st.C, st.K});
  st.packed = Func("output");
  st.packed(st.k, st.c, st.s, st.r) = weight(st.s, st.r, st.c, st.k);
  constrainDense(st.packed.output_buffer(), {st.K, st.C, st.S, st.R});
  sched.schedulePack(st);
  return finish({st.packed}, {weight});
}

KernelPipeline buildUnpackConvWeight(const KernelSpec &spec, const Scheduler &sched) {
  PackStages st = packFrame(spec);
  ImageParam packed = makeInput("packed_weight", {st.K, st.C, st.S, st.R});
  st.unpacked = Func("output");
  st.unpacked(st.s, st.r, st.c, st.k) = packed(st.k, st.c, st.s, st.r);
  constrainDense(st.unpacked.output_buffer(), {st.S, st.R, st.C, st.K});
  sched.schedulePack(st);
  return finish({st.unpacked}, {packed});
}

KernelPipeline buildFoldPackConvWeight(const KernelSpec &spec, const Scheduler &sched) {
  PackStages st = packFrame(spec);
  ImageParam weight = makeInput("weight", {st.S, st.R, st.C, st.K});
  std::vector<ImageParam> inputs = {weight};
  ImageParam bias = optionalInput(spec.bias, "bias", {st.K}, inputs);
  ImageParam gamma = makeInput("gamma", {st.K});
  ImageParam beta = makeInput("beta", {st.K});
  ImageParam mean = makeInput("mean", {st.K});
  ImageParam variance = makeInput("variance", {st.K});
  inputs.insert(inputs.end(), {gamma, beta, mean, variance});
  const Var &k = st.k;

  st.scale = Func("scale");
  st.scale(k) = gamma(k) / sqrt(variance(k) + Expr(spec.epsilon));
  st.packed = Func("packed_weight");
  st.packed(k, st.c, st.s, st.r) = weight(st.s, st.r, st.c, k) * st.scale(k);
  st.foldedBias = Func("folded_bias");
  Expr oldBias = spec.bias ? Expr(bias(k)) : Expr(0.0f);
  st.foldedBias(k) = beta(k) + (oldBias - mean(k)) * st.scale(k);
  constrainDense(st.foldedBias.output_buffer(), {st.K});
  if (spec.winogradFilterTile > 0) {
    // Transformed for the conv's Winograd algorithm (weights=winograd).
    const int m = i32(spec.winogradFilterTile), alpha = m + 2;
    st.u = Var("u");
    st.v = Var("v");
    defineWinogradFilter(
        st.winogradRows, st.winograd, m,
        [&](Expr co, Expr ci, Expr a, Expr b) { return st.packed(co, ci, a, b); }, k, st.c, st.u,
        st.v);
    // In the conv's layout: blocks of output channels (winogradFilterBlock).
    st.winogradBlocks =
        winogradFilterInBlocks(st.winograd, st.K, st.C, alpha, sched.winogradFilterBlock(st.K));
    constrainDense(st.winogradBlocks.output_buffer(), {st.K * st.C * alpha * alpha});
    sched.schedulePack(st);
    return finish({st.winogradBlocks, st.foldedBias}, inputs);
  }
  if (spec.blockedForQ > 0) {
    // The blocked layout: the 4-D values, reordered into one dimension.
    const int B = sched.convWeightBlock(st.K, st.C, i32(spec.blockedForQ), i32(spec.blockedForP));
    st.blocked = Func("blocked_weight");
    Var i("i");
    Expr column = i / B;
    Expr ko = column / (st.C * st.S * st.R), inBlock = column % (st.C * st.S * st.R);
    st.blocked(i) =
        st.packed(ko * B + i % B, inBlock % st.C, inBlock / st.C % st.S, inBlock / (st.C * st.S));
    constrainDense(st.blocked.output_buffer(), {st.K * st.C * st.S * st.R});
    sched.schedulePack(st);
    return finish({st.blocked, st.foldedBias}, inputs);
  }
  constrainDense(st.packed.output_buffer(), {st.K, st.C, st.S, st.R});
  sched.schedulePack(st);
  return finish({st.packed, st.foldedBias}, inputs);
}

namespace {

/// Throws unless `kernel`'s buffers are those of spec.arguments(): the same
/// count and order, element types, ranks and constrained extents.
void checkAgainstSpec(const KernelSpec &spec, const KernelPipeline &kernel) {
  std::vector<KernelArgument> expected = spec.arguments();
  // Each buffer, and the one that carries its extents: itself, or for the
  // later buffers of a Tuple the first (Halide constrains them alike).
  std::vector<std::pair<Halide::Internal::Parameter, Halide::Internal::Parameter>> actual;
  for (const ImageParam &input : kernel.inputs)
    actual.emplace_back(input.parameter(), input.parameter());
  for (const Func &output : kernel.pipeline.outputs()) {
    std::vector<OutputImageParam> buffers = output.output_buffers();
    for (const OutputImageParam &buffer : buffers)
      actual.emplace_back(buffer.parameter(), buffers.front().parameter());
  }
  auto mismatch = [&](const std::string &what) {
    throw std::logic_error("kernel '" + spec.toString() + "' does not take the buffers its spec " +
                           "lists: " + what);
  };
  if (actual.size() != expected.size() || kernel.inputs.size() != kernel.arguments.size())
    mismatch(std::to_string(actual.size()) + " buffers, the spec lists " +
             std::to_string(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    const KernelArgument &want = expected[i];
    const auto &[have, extents] = actual[i];
    bool outputSide = i >= kernel.inputs.size();
    Halide::Type type = want.isInt32 ? Halide::Int(32) : Halide::Float(32);
    if (outputSide != want.isOutput || have.type() != type ||
        have.dimensions() != int(want.extents.size()))
      mismatch("buffer " + std::to_string(i) + " is not " + want.role);
    for (size_t d = 0; d < want.extents.size(); ++d) {
      const int64_t *extent = Halide::Internal::as_const_int(extents.extent_constraint(int(d)));
      if (!extent || *extent != want.extents[d])
        mismatch(want.role + "'s dimension " + std::to_string(d) + " is not constrained to " +
                 std::to_string(want.extents[d]));
    }
  }
}

KernelPipeline dispatch(const KernelSpec &spec, const Scheduler &sched) {
  if (spec.isGroupedOrDilated())
    return buildGroupedConv(spec, sched);
  switch (spec.kind) {
  case KernelKind::NchwToNhwc:
    return buildNchwToNhwc(spec, sched);
  case KernelKind::NhwcToNchw:
    return buildNhwcToNchw(spec, sched);
  case KernelKind::Conv2D:
    return buildConv2D(spec, sched);
  case KernelKind::BatchNorm:
    return buildBatchNorm(spec, sched);
  case KernelKind::Add:
    return buildAdd(spec, sched);
  case KernelKind::Relu:
    return buildRelu(spec, sched);
  case KernelKind::MaxPool2D:
    return buildMaxPool2D(spec, sched);
  case KernelKind::GlobalAvgPool:
    return buildGlobalAvgPool(spec, sched);
  case KernelKind::Dense:
    return buildDense(spec, sched);
  case KernelKind::ZeroPadShortcut:
    return buildZeroPadShortcut(spec, sched);
  case KernelKind::Scale:
    return buildScale(spec, sched);
  case KernelKind::PackConvWeight:
    return buildPackConvWeight(spec, sched);
  case KernelKind::FoldPackConvWeight:
    return buildFoldPackConvWeight(spec, sched);
  case KernelKind::BatchNormTrain:
    return buildBatchNormTrain(spec, sched);
  case KernelKind::BatchNormTrainGrad:
    return buildBatchNormTrainGrad(spec, sched);
  case KernelKind::ChannelMean:
    return buildChannelMean(spec, sched);
  case KernelKind::ChannelVariance:
    return buildChannelVariance(spec, sched);
  case KernelKind::BatchNormNormalize:
    return buildBatchNormNormalize(spec, sched);
  case KernelKind::BatchNormGradSums:
    return buildBatchNormGradSums(spec, sched);
  case KernelKind::BatchNormGradInput:
    return buildBatchNormGradInput(spec, sched);
  case KernelKind::ReluGrad:
    return buildReluGrad(spec, sched);
  case KernelKind::Conv2DGradInput:
    return buildConv2DGradInput(spec, sched);
  case KernelKind::Conv2DGradWeight:
    return buildConv2DGradWeight(spec, sched);
  case KernelKind::ChannelSum:
    return buildChannelSum(spec, sched);
  case KernelKind::Dropout:
    return buildDropout(spec, sched);
  case KernelKind::Sigmoid:
    return buildSigmoid(spec, sched);
  case KernelKind::SigmoidGrad:
    return buildSigmoidGrad(spec, sched);
  case KernelKind::ChannelMul:
    return buildChannelMul(spec, sched);
  case KernelKind::SpatialDot:
    return buildSpatialDot(spec, sched);
  case KernelKind::ChannelDot:
    return buildChannelDot(spec, sched);
  case KernelKind::DenseGradInput:
    return buildDenseGradInput(spec, sched);
  case KernelKind::DenseGradWeight:
    return buildDenseGradWeight(spec, sched);
  case KernelKind::MaxPool2DGrad:
    return buildMaxPool2DGrad(spec, sched);
  case KernelKind::GlobalAvgPoolGrad:
    return buildGlobalAvgPoolGrad(spec, sched);
  case KernelKind::ZeroPadShortcutGrad:
    return buildZeroPadShortcutGrad(spec, sched);
  case KernelKind::SoftmaxCrossEntropy:
    return buildSoftmaxCrossEntropy(spec, sched);
  case KernelKind::SgdUpdate:
    return buildSgdUpdate(spec, sched);
  case KernelKind::RunningStatsUpdate:
    return buildRunningStatsUpdate(spec, sched);
  case KernelKind::UnpackConvWeight:
    return buildUnpackConvWeight(spec, sched);
  }
  throw std::logic_error("unhandled kernel kind");
}

} // namespace

KernelPipeline buildKernel(const KernelSpec &spec, const Scheduler &sched) {
  KernelPipeline kernel = dispatch(spec, sched);
  checkAgainstSpec(spec, kernel);
  return kernel;
}

} // namespace resnetc::kernelgen
