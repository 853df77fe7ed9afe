//===- TrainingKernels.cpp - Halide algorithms of a training step ---------===//
//
// The kernels of the backward pass and of the optimiser step. Every sum has a
// fixed order that depends only on the spec (never on the thread count), so a
// kernel is deterministic.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "KernelsInternal.h"

#include <algorithm>
#include <functional>
#include <string>

namespace resnetc::kernelgen {

using namespace Halide;
using namespace detail;

namespace {

/// Defines `f(args) = values` (a Tuple when there are several values).
void define(Func f, const std::vector<Expr> &args, const std::vector<Expr> &values) {
  if (values.size() == 1)
    f(args) = values[0];
  else
    f(args) = Tuple(values);
}

/// Component `i` of `f(args)` (which has `count` components).
Expr component(const Func &f, const std::vector<Expr> &args, size_t i, size_t count) {
  return count == 1 ? Expr(f(args)) : Expr(f(args)[int(i)]);
}

/// The per-channel sums of the values `value(c, x, y, n)` over x, y and n (see
/// ChannelReductionStages). `value` may return several values, summed in one
/// pass into a Tuple.
ChannelReductionStages
channelReduction(const std::string &name, int C, int W, int H, int N,
                 const std::function<std::vector<Expr>(Expr, Expr, Expr, Expr)> &value) {
  ChannelReductionStages st;
  st.C = C;
  st.W = W;
  st.H = H;
  st.N = N;
  st.c = Var("c");
  st.y = Var("y");
  st.n = Var("n");
  st.rows = Func(name + "_rows");
  st.images = Func(name + "_images");
  st.total = Func(name);
  st.rx = RDom(0, W, name + "_rx");
  st.ry = RDom(0, H, name + "_ry");
  st.rn = RDom(0, N, name + "_rn");
  const Expr c = st.c, y = st.y, n = st.n;

  // Three levels (x, then y, then n): each float sum has at most
  // max(W, H, N) terms.
  std::vector<Expr> values = value(c, st.rx.x, y, n);
  const size_t m = values.size();
  const std::vector<Expr> zeros(m, Expr(0.0f));
  define(st.rows, {c, y, n}, zeros);
  std::vector<Expr> sums;
  for (size_t i = 0; i < m; ++i)
    sums.push_back(component(st.rows, {c, y, n}, i, m) + values[i]);
  define(st.rows, {c, y, n}, sums);

  define(st.images, {c, n}, zeros);
  sums.clear();
  for (size_t i = 0; i < m; ++i)
    sums.push_back(component(st.images, {c, n}, i, m) + component(st.rows, {c, st.ry.x, n}, i, m));
  define(st.images, {c, n}, sums);

  define(st.total, {c}, zeros);
  sums.clear();
  for (size_t i = 0; i < m; ++i)
    sums.push_back(component(st.total, {c}, i, m) + component(st.images, {c, st.rn.x}, i, m));
  define(st.total, {c}, sums);
  return st;
}

/// The stages of ChannelMomentsStages over `input` (extents C, W, H, N), with
/// the deviations about `center`, or about the mean (sumTotal / M) where
/// `center` is undefined.
ChannelMomentsStages channelMoments(Func input, const std::vector<int> &ext, Func center) {
  ChannelMomentsStages st;
  st.C = ext[0];
  st.W = ext[1];
  st.H = ext[2];
  st.N = ext[3];
  st.c = Var("c");
  st.y = Var("y");
  st.n = Var("n");
  st.rx = RDom(0, st.W, "moments_rx");
  st.ry = RDom(0, st.H, "moments_ry");
  st.rn = RDom(0, st.N, "moments_rn");
  const Var &c = st.c, &y = st.y, &n = st.n;
  const Expr W = float(st.W);

  st.rowSum = Func("row_sum");
  st.rowSum(c, y, n) = 0.0f;
  st.rowSum(c, y, n) += input(c, st.rx.x, y, n);
  st.rows = Func("row_moments");
  st.rows(c, y, n) = Tuple(0.0f, 0.0f, 0.0f);
  Expr d = input(c, st.rx.x, y, n) - st.rowSum(c, y, n) / W;
  st.rows(c, y, n) =
      Tuple(st.rowSum(c, y, n), st.rows(c, y, n)[1] + d * d, st.rows(c, y, n)[2] + d);

  if (!center.defined()) {
    st.sumImages = Func("sum_images");
    st.sumImages(c, n) = 0.0f;
    st.sumImages(c, n) += st.rows(c, st.ry.x, n)[0];
    st.sumTotal = Func("sum");
    st.sumTotal(c) = 0.0f;
    st.sumTotal(c) += st.sumImages(c, st.rn.x);
    // Stored, not inlined: the deviations read the mean's rounded value, as
    // channel_variance reads channel_mean's.
    st.results.push_back(Func("mean"));
    center = st.results.back();
    center(c) = st.sumTotal(c) / float(int64_t(st.W) * st.H * st.N);
  }
  // sum((x - m)^2) = sum((x - a)^2) + (a - m) * (2 sum(x - a) + W (a - m)), a
  // the row's rounded mean: exact for any a, so the rounding of a costs nothing.
  st.devImages = Func("deviation_images");
  st.devImages(c, n) = 0.0f;
  Expr between = st.rows(c, st.ry.x, n)[0] / W - center(c);
  st.devImages(c, n) +=
      st.rows(c, st.ry.x, n)[1] + between * (2.0f * st.rows(c, st.ry.x, n)[2] + W * between);
  st.devTotal = Func("squared_deviations");
  st.devTotal(c) = 0.0f;
  st.devTotal(c) += st.devImages(c, st.rn.x);
  return st;
}

/// The buffers of a Tuple-valued 1-D output: dense, extent `size` (the
/// buffers after the first share the first one's min and extent).
void constrainTupleOutput(Func f, int size) {
  std::vector<OutputImageParam> buffers = f.output_buffers();
  constrainDense(buffers[0], {size});
  for (size_t i = 1; i < buffers.size(); ++i)
    buffers[i].dim(0).set_stride(1);
}

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

/// The smallest divisor d of `n` with d * unit >= target (n itself if none).
int smallestDivisorReaching(int n, int64_t unit, int64_t target) {
  for (int d = 1; d < n; ++d)
    if (n % d == 0 && d * unit >= target)
      return d;
  return n;
}

} // namespace

namespace {

/// output = relu?((input - mean) * inv_std * gamma + beta + residual?), with
/// inv_std and the scale among the per-channel stages: batch norm's
/// elementwise half (the residual, where given, added to the rounded value,
/// as a separate add would).
void normalizeStage(ElementwiseStages &st, const KernelSpec &spec, Func input, Func gamma,
                    Func beta, Func mean, Func invStd, Func residual = Func()) {
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  Func scale("scale");
  scale(c) = invStd(c) * gamma(c);
  st.perChannel.push_back(invStd);
  st.perChannel.push_back(scale);
  Expr value = (input(c, x, y, n) - mean(c)) * scale(c) + beta(c);
  if (residual.defined())
    value = value + residual(c, x, y, n);
  st.output(c, x, y, n) = maybeRelu(value, spec.relu);
}

/// The per-channel mean over N, H and W of `value(c, x, y, n)`: the total
/// of one reduction divided by M, as batch_norm_train computes it, so that one
/// rank's staged batch norm is the fused one bit for bit.
ChannelReductionStages channelMean(const char *name, const std::vector<int> &ext,
                                   std::function<Expr(Expr, Expr, Expr, Expr)> value) {
  const float M = float(int64_t(ext[1]) * ext[2] * ext[3]);
  ChannelReductionStages st =
      channelReduction(name, ext[0], ext[1], ext[2], ext[3], [&](Expr c, Expr x, Expr y, Expr n) {
        return std::vector<Expr>{value(c, x, y, n)};
      });
  Func mean("mean");
  mean(st.c) = st.total(st.c) / M;
  st.results = {mean};
  return st;
}

/// What batch norm's gradient kernels share: the gradient reaching the batch
/// norm (0 where the fused relu's output is not positive) and xhat.
struct BatchNormGradParts {
  ImageParam grad, input, reluOutput;
  Func g{"masked_grad"}, xhat{"xhat"};
};

BatchNormGradParts batchNormGradParts(const KernelSpec &spec, const std::vector<int> &ext,
                                      Func mean, Func invStd) {
  BatchNormGradParts parts;
  parts.grad = makeInput("output_grad", ext);
  parts.input = makeInput("input", ext);
  if (spec.relu)
    parts.reluOutput = makeInput("forward_output", ext);
  Var c("c"), x("x"), y("y"), n("n");
  if (spec.relu)
    parts.g(c, x, y, n) = select(parts.reluOutput(c, x, y, n) > 0.0f, parts.grad(c, x, y, n), 0.0f);
  else
    parts.g(c, x, y, n) = parts.grad(c, x, y, n);
  parts.xhat(c, x, y, n) = (parts.input(c, x, y, n) - mean(c)) * invStd(c);
  return parts;
}

/// beta_grad = sum(g) and gamma_grad = sum(g * xhat) over N, H and W, in
/// one pass (the fused and the staged kernels alike, so that they agree to
/// the bit).
ChannelReductionStages batchNormGradSums(const BatchNormGradParts &parts,
                                         const std::vector<int> &ext, Func &gammaGrad,
                                         Func &betaGrad) {
  ChannelReductionStages sums = channelReduction(
      "grad_sums", ext[0], ext[1], ext[2], ext[3], [&](Expr c, Expr x, Expr y, Expr n) {
        Expr gv = parts.g(c, x, y, n);
        return std::vector<Expr>{gv, gv * parts.xhat(c, x, y, n)};
      });
  betaGrad = Func("beta_grad");
  gammaGrad = Func("gamma_grad");
  betaGrad(sums.c) = sums.total(sums.c)[0];
  gammaGrad(sums.c) = sums.total(sums.c)[1];
  return sums;
}

/// input_grad = gamma * inv_std * (g - beta_grad / M - xhat * gamma_grad / M).
void batchNormGradInputStage(ElementwiseStages &st, const BatchNormGradParts &parts, Func gamma,
                             Func invStd, Func gammaGrad, Func betaGrad, float M) {
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  Func coefficient("coefficient"), meanGrad("mean_grad"), meanGradXhat("mean_grad_xhat");
  coefficient(c) = gamma(c) * invStd(c);
  meanGrad(c) = betaGrad(c) / M;
  meanGradXhat(c) = gammaGrad(c) / M;
  for (Func f : {coefficient, meanGrad, meanGradXhat})
    st.perChannel.push_back(f);
  st.output(c, x, y, n) = coefficient(c) * (parts.g(c, x, y, n) - meanGrad(c) -
                                            parts.xhat(c, x, y, n) * meanGradXhat(c));
}

std::vector<ImageParam> withReluOutput(std::vector<ImageParam> inputs,
                                       const BatchNormGradParts &parts, const KernelSpec &spec) {
  if (spec.relu)
    inputs.push_back(parts.reluOutput);
  return inputs;
}

} // namespace

KernelPipeline buildBatchNormTrain(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  const int C = ext[0], W = ext[1], H = ext[2], N = ext[3];
  const float M = float(int64_t(W) * H * N);
  ImageParam input = makeInput("input", ext);
  ImageParam gamma = makeInput("gamma", {C});
  ImageParam beta = makeInput("beta", {C});

  // The statistics in one pass over the input from memory (ChannelMomentsStages:
  // no cancellation as in E[x^2] - E[x]^2), then the normalisation in a second.
  ChannelMomentsStages moments = channelMoments(input, ext, Func());
  ElementwiseStages st = elementwiseFrame(spec.input);
  const Var &c = st.c;
  Func mean = moments.results[0];
  // The variance stored apart, as channel_variance stores it for
  // batch_norm_normalize: one rank's staged batch norm is this one to the bit.
  Func variance("variance");
  variance(c) = moments.devTotal(c) / M;
  moments.results.push_back(variance);
  Func invStd("inv_std");
  invStd(c) = 1.0f / sqrt(variance(c) + Expr(spec.epsilon));
  std::vector<ImageParam> inputs = {input, gamma, beta};
  Func residual;
  if (spec.residual) {
    inputs.push_back(makeInput("residual", ext));
    residual = inputs.back();
  }
  normalizeStage(st, spec, input, gamma, beta, mean, invStd, residual);
  constrainDense(st.output.output_buffer(), ext);
  constrainDense(mean.output_buffer(), {C});
  constrainDense(invStd.output_buffer(), {C});

  sched.scheduleChannelMoments(moments);
  sched.scheduleElementwise(st);
  return finish({st.output, mean, invStd}, inputs);
}

KernelPipeline buildBatchNormTrainGrad(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  const int C = ext[0], W = ext[1], H = ext[2], N = ext[3];
  const float M = float(int64_t(W) * H * N);
  ImageParam gamma = makeInput("gamma", {C});
  ImageParam mean = makeInput("mean", {C});
  ImageParam invStd = makeInput("inv_std", {C});
  BatchNormGradParts parts = batchNormGradParts(spec, ext, mean, invStd);

  ElementwiseStages st = elementwiseFrame(spec.input);
  Func gammaGrad, betaGrad;
  ChannelReductionStages sums = batchNormGradSums(parts, ext, gammaGrad, betaGrad);
  st.perChannel = {betaGrad, gammaGrad};
  batchNormGradInputStage(st, parts, gamma, invStd, gammaGrad, betaGrad, M);
  constrainDense(st.output.output_buffer(), ext);
  constrainDense(gammaGrad.output_buffer(), {C});
  constrainDense(betaGrad.output_buffer(), {C});

  sched.scheduleChannelReduction(sums);
  sched.scheduleElementwise(st);
  return finish({st.output, gammaGrad, betaGrad},
                withReluOutput({parts.grad, parts.input, gamma, mean, invStd}, parts, spec));
}

KernelPipeline buildChannelMean(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ChannelReductionStages mean =
      channelMean("sum", ext, [&](Expr c, Expr x, Expr y, Expr n) { return input(c, x, y, n); });
  constrainDense(mean.results[0].output_buffer(), {ext[0]});
  sched.scheduleChannelReduction(mean);
  return finish(mean.results, {input});
}

KernelPipeline buildChannelVariance(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ImageParam mean = makeInput("mean", {ext[0]});
  // As batch_norm_train computes it (one rank's staged batch norm is the
  // fused one to the bit), about the given mean.
  ChannelMomentsStages moments = channelMoments(input, ext, mean);
  Func variance("variance");
  variance(moments.c) = moments.devTotal(moments.c) / float(int64_t(ext[1]) * ext[2] * ext[3]);
  moments.results = {variance};
  constrainDense(variance.output_buffer(), {ext[0]});
  sched.scheduleChannelMoments(moments);
  return finish({variance}, {input, mean});
}

KernelPipeline buildBatchNormNormalize(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  const int C = ext[0];
  ImageParam input = makeInput("input", ext);
  ImageParam gamma = makeInput("gamma", {C}), beta = makeInput("beta", {C});
  ImageParam mean = makeInput("mean", {C}), variance = makeInput("variance", {C});
  ElementwiseStages st = elementwiseFrame(spec.input);
  Func invStd("inv_std");
  invStd(st.c) = 1.0f / sqrt(variance(st.c) + Expr(spec.epsilon));
  normalizeStage(st, spec, input, gamma, beta, mean, invStd);
  constrainDense(st.output.output_buffer(), ext);
  constrainDense(invStd.output_buffer(), {C});
  sched.scheduleElementwise(st);
  return finish({st.output, invStd}, {input, gamma, beta, mean, variance});
}

KernelPipeline buildBatchNormGradSums(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  const int C = ext[0], W = ext[1], H = ext[2], N = ext[3];
  ImageParam mean = makeInput("mean", {C}), invStd = makeInput("inv_std", {C});
  BatchNormGradParts parts = batchNormGradParts(spec, ext, mean, invStd);
  // One pass for both sums, as in batch_norm_train_grad (the same order:
  // one rank's staged batch norm is the fused one bit for bit).
  Func gammaGrad, betaGrad;
  ChannelReductionStages sums = batchNormGradSums(parts, ext, gammaGrad, betaGrad);
  sums.results = {gammaGrad, betaGrad};
  constrainDense(gammaGrad.output_buffer(), {C});
  constrainDense(betaGrad.output_buffer(), {C});
  sched.scheduleChannelReduction(sums);
  return finish(sums.results, withReluOutput({parts.grad, parts.input, mean, invStd}, parts, spec));
}

KernelPipeline buildBatchNormGradInput(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  const int C = ext[0];
  const float M = float(int64_t(ext[1]) * ext[2] * ext[3]);
  ImageParam gamma = makeInput("gamma", {C});
  ImageParam mean = makeInput("mean", {C}), invStd = makeInput("inv_std", {C});
  ImageParam gammaGrad = makeInput("gamma_grad", {C}), betaGrad = makeInput("beta_grad", {C});
  BatchNormGradParts parts = batchNormGradParts(spec, ext, mean, invStd);
  ElementwiseStages st = elementwiseFrame(spec.input);
  batchNormGradInputStage(st, parts, gamma, invStd, gammaGrad, betaGrad, M);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output},
                withReluOutput({parts.grad, parts.input, gamma, mean, invStd, gammaGrad, betaGrad},
                               parts, spec));
}

KernelPipeline buildReluGrad(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam grad = makeInput("output_grad", ext);
  ImageParam output = makeInput("forward_output", ext);
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = select(output(c, x, y, n) > 0.0f, grad(c, x, y, n), 0.0f);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {grad, output});
}

KernelPipeline buildConv2DGradInput(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> fwd = spec.forwardOutputShape();
  ConvGradInputStages st;
  setConvGeometry(st, spec, fwd);
  const int SH = st.strideH, SW = st.strideW, PH = st.padH, PW = st.padW;
  st.phases = SH * SW;
  // Taps per phase (rounded up) and the extents of xq, yq.
  const int Sj = ceilDiv(st.S, SW), Rj = ceilDiv(st.R, SH);
  st.QX = st.phases == 1 ? st.W : ceilDiv(st.W, SW);
  st.PY = st.phases == 1 ? st.H : ceilDiv(st.H, SH);

  ImageParam grad = makeInput("output_grad", {st.K, st.Q, st.P, st.N});
  ImageParam weight = makeInput("weight", {st.K, st.C, st.S, st.R});
  std::vector<ImageParam> inputs = {grad, weight};
  // The epilogue: another gradient of the input added in, then a relu's mask.
  GradInputEpilogue epilogueInputs(spec, {st.C, st.W, st.H, st.N}, inputs);
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.xq = Var("xq");
  st.yq = Var("yq");
  st.n = Var("n");
  st.ph = Var("ph");
  const Var &c = st.c, &x = st.x, &y = st.y, &xq = st.xq, &yq = st.yq, &n = st.n, &ph = st.ph;
  Var k("k"), s("s"), r("r");

  // Transposed weights (input channels contiguous), zero beyond the kernel
  // so that a phase's rounded-up tap range reads zeros.
  st.weightT = Func("weight_t");
  Expr w = weight(k, c, min(s, st.S - 1), min(r, st.R - 1));
  if (SW * Sj > st.S || SH * Rj > st.R)
    w = select(s < st.S && r < st.R, w, 0.0f);
  st.weightT(c, k, s, r) = w;

  st.r = RDom(0, st.K, 0, Sj, 0, Rj, "r");
  RDom &rd = st.r;
  st.skipPaddingTaps = st.phases == 1 && (PH || PW) && sched.skipsConvGradInputPaddingTaps(st);
  // output_grad, zero outside the image; where the padding taps are skipped
  // it is read only inside, in place: edge-clamped coordinates then, as in
  // the forward conv.
  Region bounds(4);
  bounds[1] = Range(0, st.Q);
  bounds[2] = Range(0, st.P);
  Func padded = st.skipPaddingTaps ? BoundaryConditions::repeat_edge(grad, bounds)
                                   : BoundaryConditions::constant_exterior(grad, 0.0f, bounds);
  st.gradTile = Func("grad_tile");
  st.gradTile(k, xq, yq, n) = padded(k, xq, yq, n);

  st.acc = Func("acc");
  st.output = Func("output");
  auto epilogue = [&](Expr value) { return epilogueInputs.apply(value, c, x, y, n); };
  if (st.phases == 1 && st.S == 3 && st.R == 3) {
    // The transposed convolution as a correlation of output_grad, padded by
    // 2 - pad, with the flipped, transposed weights.
    WinogradProblem problem;
    problem.Co = st.C;
    problem.Ci = st.K;
    problem.W = st.W;
    problem.H = st.H;
    problem.N = st.N;
    problem.sourceW = st.Q;
    problem.sourceH = st.P;
    problem.padX = 2 - PW;
    problem.padY = 2 - PH;
    problem.source = grad;
    problem.tap = [&](Expr co, Expr ci, Expr a, Expr b) { return weight(ci, co, 2 - a, 2 - b); };
    problem.epilogue = epilogue;
    problem.co = c;
    problem.x = x;
    problem.y = y;
    problem.n = n;
    if (int m = chooseWinogradTile(sched, problem)) {
      WinogradStages wino = winogradConv3x3(problem, m);
      constrainDense(wino.output.output_buffer(), {st.C, st.W, st.H, st.N});
      sched.scheduleWinograd(wino);
      return finish({wino.output}, inputs);
    }
  }
  if (st.phases == 1) {
    if (st.skipPaddingTaps) {
      Expr gx = xq - rd.y, gy = yq - rd.z;
      rd.where(gx >= 0 && gx < st.Q && gy >= 0 && gy < st.P);
    }
    st.acc(c, xq, yq, n) = 0.0f;
    st.acc(c, xq, yq, n) +=
        st.gradTile(rd.x, xq - rd.y, yq - rd.z, n) * st.weightT(c, rd.x, rd.y, rd.z);
    st.output(c, x, y, n) = epilogue(st.acc(c, x + PW, y + PH, n));
  } else {
    // Phase ph = vx + SW*vy holds the positions x = xq*SW + vx,
    // y = yq*SH + vy; x + PW = (xq + ax)*SW + bx with ax, bx fixed per phase.
    // (Remainders written as a - b*(a/b): bounds inference keeps them exact
    // for a single phase, which it does not for %.)
    Expr vy = ph / SW, vx = ph - vy * SW;
    Expr ax = (vx + PW) / SW, bx = vx + PW - ax * SW;
    Expr ay = (vy + PH) / SH, by = vy + PH - ay * SH;
    if (st.S % SW || st.R % SH)
      rd.where(bx + SW * rd.y < st.S && by + SH * rd.z < st.R); // skip the zero taps
    st.acc(c, xq, yq, n, ph) = 0.0f;
    // The clamps change no value; they bound weightT's region over all
    // phases to the padded kernel.
    Expr tapS = clamp(bx + SW * rd.y, 0, SW * Sj - 1);
    Expr tapR = clamp(by + SH * rd.z, 0, SH * Rj - 1);
    st.acc(c, xq, yq, n, ph) +=
        st.gradTile(rd.x, xq + ax - rd.y, yq + ay - rd.z, n) * st.weightT(c, rd.x, tapS, tapR);
    st.phased = Func("phased");
    st.phased(c, xq, yq, n, ph) = st.acc(c, xq, yq, n, ph);
    st.output(c, x, y, n) = epilogue(st.phased(c, x / SW, y / SH, n, x % SW + SW * (y % SH)));
  }
  constrainDense(st.output.output_buffer(), {st.C, st.W, st.H, st.N});
  sched.scheduleConvGradInput(st);
  return finish({st.output}, inputs);
}

KernelPipeline buildConv2DGradWeight(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> fwd = spec.forwardOutputShape();
  ConvGradWeightStages st;
  setConvGeometry(st, spec, fwd);
  const int SH = st.strideH, SW = st.strideW, PH = st.padH, PW = st.padW;
  if (st.S == 3 && st.R == 3 && SH == 1 && SW == 1)
    st.winograd = sched.winogradGradWeightTile(st);
  const int m = st.winograd, alpha = m + 2;
  st.sumS = m ? alpha : st.S;
  st.sumR = m ? alpha : st.R;
  st.stepsX = m ? (st.Q + m - 1) / m : st.Q;
  st.rowsY = m ? (st.P + m - 1) / m : st.P;

  // Blocks of output-gradient rows (or rows of tiles): a block reads about
  // `steps` pixels (tiles) of output_grad and input, sized so both slices
  // stay in cache (the more channels, the fewer pixels), whole rows within
  // one image, or whole images when an image is smaller than that.
  const int64_t floatsPerStep = (int64_t(st.K) + st.C) * (m ? alpha * alpha : 1);
  const int64_t steps = std::clamp<int64_t>(65536 / floatsPerStep, m ? 16 : 64, 4096);
  if (int64_t(st.rowsY) * st.stepsX >= steps) {
    st.blockImages = 1;
    st.blockRows = smallestDivisorReaching(st.rowsY, st.stepsX, steps);
  } else {
    st.blockRows = st.rowsY;
    st.blockImages = smallestDivisorReaching(st.N, int64_t(st.rowsY) * st.stepsX, steps);
  }

  ImageParam grad = makeInput("output_grad", {st.K, st.Q, st.P, st.N});
  ImageParam input = makeInput("input", {st.C, st.W, st.H, st.N});
  st.k = Var("k");
  st.c = Var("c");
  st.s = Var("s");
  st.r = Var("r");
  st.bp = Var("bp");
  st.bn = Var("bn");
  const Var &k = st.k, &c = st.c, &s = st.s, &r = st.r, &bp = st.bp, &bn = st.bn;
  st.red = RDom(0, st.stepsX, 0, st.blockRows, 0, st.blockImages, "red");
  if (m) {
    defineWinogradGradWeight(st, grad, input);
  } else {
    Var x("x"), y("y"), n("n");
    st.inputTile = Func("input_tile");
    st.padded = PH || PW;
    if (st.padded) {
      Region bounds(4);
      if (PW)
        bounds[1] = Range(0, st.W);
      if (PH)
        bounds[2] = Range(0, st.H);
      Func padded = BoundaryConditions::constant_exterior(input, 0.0f, bounds);
      st.inputTile(c, x, y, n) = padded(c, x, y, n);
    } else {
      st.inputTile(c, x, y, n) = input(c, x, y, n);
    }
    const RDom &red = st.red;
    Expr p = bp * st.blockRows + red.y, img = bn * st.blockImages + red.z;
    st.partial = Func("partial");
    st.partial(k, c, s, r, bp, bn) = 0.0f;
    st.partial(k, c, s, r, bp, bn) +=
        grad(k, red.x, p, img) * st.inputTile(c, red.x * SW + s - PW, p * SH + r - PH, img);
  }

  const int imageBlocks = st.N / st.blockImages;
  st.chunks = sched.convGradWeightChunks(st, imageBlocks);
  if (st.chunks < 1 || imageBlocks % st.chunks != 0)
    st.chunks = 1; // a chunk must be whole blocks, or images would be left out
  st.rb = RDom(0, st.rowsY / st.blockRows, 0, imageBlocks / st.chunks, "rb");
  st.output = Func("output");
  st.sums = m ? Func("point_sums") : st.output;
  st.sums(k, c, s, r) = 0.0f;
  if (st.chunks > 1) {
    st.ch = Var("ch");
    st.chunkSum = Func("chunk_sum");
    st.chunkSum(k, c, s, r, st.ch) = 0.0f;
    st.chunkSum(k, c, s, r, st.ch) +=
        st.partial(k, c, s, r, st.rb.x, st.ch * (imageBlocks / st.chunks) + st.rb.y);
    st.rc = RDom(0, st.chunks, "rc");
    st.sums(k, c, s, r) += st.chunkSum(k, c, s, r, st.rc);
  } else {
    st.sums(k, c, s, r) += st.partial(k, c, s, r, st.rb.x, st.rb.y);
  }
  if (m)
    defineWinogradGradWeightOutput(st);
  constrainDense(st.output.output_buffer(), {st.K, st.C, st.S, st.R});
  sched.scheduleConvGradWeight(st);
  return finish({st.output}, {grad, input});
}

KernelPipeline buildChannelSum(const KernelSpec &spec, const Scheduler &sched) {
  ImageParam input;
  ChannelReductionStages st;
  const int C = i32(spec.input[1]);
  if (spec.input.size() == 2) {
    // N x C: one row of N values per channel.
    const int N = i32(spec.input[0]);
    input = makeInput("input", {C, N});
    st = channelReduction("output", C, N, 1, 1, [&](Expr c, Expr x, Expr, Expr) {
      return std::vector<Expr>{input(c, x)};
    });
  } else {
    std::vector<int> ext = nhwc(spec.input);
    input = makeInput("input", ext);
    st = channelReduction("output", C, ext[1], ext[2], ext[3], [&](Expr c, Expr x, Expr y, Expr n) {
      return std::vector<Expr>{input(c, x, y, n)};
    });
  }
  constrainDense(st.total.output_buffer(), {C});
  sched.scheduleChannelReduction(st);
  return finish({st.total}, {input});
}

KernelPipeline buildChannelDot(const KernelSpec &spec, const Scheduler &sched) {
  const int C = i32(spec.input[1]);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam lhs = makeInput("lhs", ext), rhs = makeInput("rhs", ext);
  ChannelReductionStages st =
      channelReduction("output", C, ext[1], ext[2], ext[3], [&](Expr c, Expr x, Expr y, Expr n) {
        return std::vector<Expr>{lhs(c, x, y, n) * rhs(c, x, y, n)};
      });
  constrainDense(st.total.output_buffer(), {C});
  sched.scheduleChannelReduction(st);
  return finish({st.total}, {lhs, rhs});
}

namespace {

DenseGradStages denseGradFrame(int I, int J, int Rn) {
  DenseGradStages st;
  st.I = I;
  st.J = J;
  st.Rn = Rn;
  st.i = Var("i");
  st.j = Var("j");
  st.r = RDom(0, Rn, "r");
  st.output = Func("output");
  return st;
}

} // namespace

KernelPipeline buildDenseGradInput(const KernelSpec &spec, const Scheduler &sched) {
  const int N = i32(spec.input[0]), C = i32(spec.input[1]), K = i32(spec.weight[0]);
  ImageParam grad = makeInput("output_grad", {K, N});
  ImageParam weight = makeInput("weight", {C, K});
  // input_grad(c, n) = sum_k output_grad(k, n) * weight(c, k)
  DenseGradStages st = denseGradFrame(C, N, K);
  st.output(st.i, st.j) = 0.0f;
  st.output(st.i, st.j) += grad(st.r, st.j) * weight(st.i, st.r);
  constrainDense(st.output.output_buffer(), {C, N});
  sched.scheduleDenseGrad(st);
  return finish({st.output}, {grad, weight});
}

KernelPipeline buildDenseGradWeight(const KernelSpec &spec, const Scheduler &sched) {
  const int N = i32(spec.input[0]), C = i32(spec.input[1]), K = i32(spec.weight[0]);
  ImageParam grad = makeInput("output_grad", {K, N});
  ImageParam input = makeInput("input", {C, N});
  // weight_grad(c, k) = sum_n output_grad(k, n) * input(c, n)
  DenseGradStages st = denseGradFrame(C, K, N);
  st.output(st.i, st.j) = 0.0f;
  st.output(st.i, st.j) += grad(st.j, st.r) * input(st.i, st.r);
  constrainDense(st.output.output_buffer(), {C, K});
  sched.scheduleDenseGrad(st);
  return finish({st.output}, {grad, input});
}

KernelPipeline buildMaxPool2DGrad(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int64_t> fwd = spec.forwardOutputShape();
  std::vector<int> ext = nhwc(spec.input);
  MaxPoolGradStages st;
  st.C = ext[0];
  st.W = ext[1];
  st.H = ext[2];
  st.N = ext[3];
  st.P = i32(fwd[2]);
  st.Q = i32(fwd[3]);
  st.R = i32(spec.kernelH);
  st.S = i32(spec.kernelW);
  const int SH = i32(spec.strideH), SW = i32(spec.strideW);
  const int PH = i32(spec.padH), PW = i32(spec.padW);
  ImageParam grad = makeInput("output_grad", {st.C, st.Q, st.P, st.N});
  ImageParam input = makeInput("input", ext);
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;

  // The first maximum of each window (r outer, s inner; a later element
  // wins only if strictly greater); padded positions never win. best(...)[1]
  // is the window index r*S + s, -1 before the first real element.
  st.r = RDom(0, st.S, 0, st.R, "r");
  const RDom &rw = st.r;
  Expr h = y * SH - PH + rw.y, w = x * SW - PW + rw.x;
  Expr inside = Internal::const_true();
  if (PH) {
    inside = inside && h >= 0 && h < st.H;
    h = clamp(h, 0, st.H - 1);
  }
  if (PW) {
    inside = inside && w >= 0 && w < st.W;
    w = clamp(w, 0, st.W - 1);
  }
  Expr value = input(c, w, h, n);
  st.best = Func("best");
  st.best(c, x, y, n) = Tuple(Float(32).min(), -1);
  Expr bestValue = st.best(c, x, y, n)[0], bestIndex = st.best(c, x, y, n)[1];
  Expr wins = inside && (bestIndex < 0 || value > bestValue);
  st.best(c, x, y, n) =
      Tuple(select(wins, value, bestValue), select(wins, rw.y * st.S + rw.x, bestIndex));

  // Gather: the windows (p, q) covering (x, y) are p = (y + PH)/SH - jr,
  // q = (x + PW)/SW - js with the offset inside the window below R and S.
  const int Rj = ceilDiv(st.R, SH), Sj = ceilDiv(st.S, SW);
  Expr sum;
  for (int jr = 0; jr < Rj; ++jr)
    for (int js = 0; js < Sj; ++js) {
      Expr p = (y + PH) / SH - jr, q = (x + PW) / SW - js;
      Expr rr = y + PH - p * SH, ss = x + PW - q * SW;
      Expr valid = p >= 0 && p < st.P && rr < st.R && q >= 0 && q < st.Q && ss < st.S;
      Expr pc = clamp(p, 0, st.P - 1), qc = clamp(q, 0, st.Q - 1);
      Expr hit = valid && st.best(c, qc, pc, n)[1] == rr * st.S + ss;
      Expr term = select(hit, grad(c, qc, pc, n), 0.0f);
      sum = sum.defined() ? sum + term : term;
    }
  st.output = Func("output");
  st.output(c, x, y, n) = sum;
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleMaxPoolGrad(st);
  return finish({st.output}, {grad, input});
}

KernelPipeline buildGlobalAvgPoolGrad(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam grad = makeInput("output_grad", {st.C, st.N});
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  Func scaled("scaled_grad");
  scaled(c, n) = grad(c, n) / float(int64_t(st.H) * st.W);
  st.perChannel = {scaled};
  st.output(c, x, y, n) = scaled(c, n);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {grad});
}

KernelPipeline buildZeroPadShortcutGrad(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  std::vector<int64_t> fwd = spec.forwardOutputShape();
  const int K = i32(fwd[1]), Ho = i32(fwd[2]), Wo = i32(fwd[3]);
  const int S = i32(spec.stride), lo = (K - st.C) / 2;
  ImageParam grad = makeInput("output_grad", {K, Wo, Ho, st.N});
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  if (S == 1) {
    st.output(c, x, y, n) = grad(c + lo, x, y, n);
  } else {
    // Only positions (x*S, y*S) inside the forward output received a value.
    Expr xo = x / S, yo = y / S;
    Expr sampled = x % S == 0 && y % S == 0 && xo < Wo && yo < Ho;
    st.output(c, x, y, n) =
        select(sampled, grad(c + lo, min(xo, Wo - 1), min(yo, Ho - 1), n), 0.0f);
  }
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {grad});
}

KernelPipeline buildSoftmaxCrossEntropy(const KernelSpec &spec, const Scheduler &sched) {
  SoftmaxStages st;
  st.N = i32(spec.input[0]);
  st.K = i32(spec.input[1]);
  const int K = st.K, N = st.N;
  ImageParam logits = makeInput("logits", {K, N});
  ImageParam labels = makeInput("labels", {N}, Int(32));
  st.k = Var("k");
  st.n = Var("n");
  st.i = Var("i");
  const Var &k = st.k, &n = st.n, &i = st.i;
  st.rk = RDom(0, K, "rk");
  st.rn = RDom(0, N, "rn");
  const RDom &rk = st.rk, &rn = st.rn;

  // A stable softmax per row: exp(logit - max).
  st.rowMax = Func("row_max");
  st.rowMax(n) = Float(32).min();
  st.rowMax(n) = max(st.rowMax(n), logits(rk, n));
  st.expv = Func("exp");
  st.expv(k, n) = exp(logits(k, n) - st.rowMax(n));
  st.rowSum = Func("row_sum");
  st.rowSum(n) = 0.0f;
  st.rowSum(n) += st.expv(rk, n);

  // First maximum (ties go to the lowest index).
  st.best = Func("best");
  st.best(n) = Tuple(Float(32).min(), -1);
  Expr value = logits(rk, n);
  Expr wins = st.best(n)[1] < 0 || value > st.best(n)[0];
  st.best(n) = Tuple(select(wins, value, st.best(n)[0]), select(wins, rk, st.best(n)[1]));

  // Labels outside [0, K) are clamped for reading and never count as correct.
  Expr label = labels(n);
  Expr inRange = label >= 0 && label < K;
  Expr rowLoss = log(st.rowSum(n)) - (logits(clamp(label, 0, K - 1), n) - st.rowMax(n));
  Func lossRow("loss_row"), correctRow("correct_row");
  lossRow(n) = rowLoss;
  correctRow(n) = select(inRange && st.best(n)[1] == label, 1, 0);

  st.lossSum = Func("loss_sum");
  st.lossSum(i) = 0.0f;
  st.lossSum(i) += lossRow(rn);
  st.loss = Func("loss");
  Func &loss = st.loss;
  loss(i) = st.lossSum(i) / float(N);
  st.correctSum = Func("correct");
  st.correctSum(i) = 0;
  st.correctSum(i) += correctRow(rn);

  st.grad = Func("logits_grad");
  st.grad(k, n) = (st.expv(k, n) / st.rowSum(n) - select(k == label, 1.0f, 0.0f)) / float(N);

  constrainDense(loss.output_buffer(), {1});
  constrainDense(st.grad.output_buffer(), {K, N});
  constrainDense(st.correctSum.output_buffer(), {1});
  sched.scheduleSoftmax(st);
  return finish({loss, st.grad, st.correctSum}, {logits, labels});
}

KernelPipeline buildSgdUpdate(const KernelSpec &spec, const Scheduler &sched) {
  VectorUpdateStages st;
  st.size = i32(spec.size);
  ImageParam weight = makeInput("weight", {st.size});
  ImageParam momentumBuffer = makeInput("momentum_buffer", {st.size});
  ImageParam grad = makeInput("grad", {st.size});
  ImageParam lr = makeInput("lr", {1});
  st.i = Var("i");
  const Var &i = st.i;
  // PyTorch's SGD (dampening 0, no Nesterov). Terms with a zero factor are
  // left out (so that they cannot turn an infinity into a NaN).
  Expr g = grad(i);
  if (spec.weightDecay != 0.0f)
    g = g + Expr(spec.weightDecay) * weight(i);
  Expr m = g;
  if (spec.momentum != 0.0f)
    m = Expr(spec.momentum) * momentumBuffer(i) + g;
  st.output = Func("new_weight_and_momentum");
  st.output(i) = Tuple(weight(i) - lr(0) * m, m);
  constrainTupleOutput(st.output, st.size);
  sched.scheduleVectorUpdate(st);
  return finish({st.output}, {weight, momentumBuffer, grad, lr});
}

KernelPipeline buildRunningStatsUpdate(const KernelSpec &spec, const Scheduler &sched) {
  VectorUpdateStages st;
  st.size = i32(spec.channels);
  ImageParam runningMean = makeInput("running_mean", {st.size});
  ImageParam runningVar = makeInput("running_var", {st.size});
  ImageParam mean = makeInput("mean", {st.size});
  ImageParam invStd = makeInput("inv_std", {st.size});
  st.i = Var("i");
  const Var &i = st.i;
  const float momentum = spec.momentum, keep = 1.0f - spec.momentum;
  const float bessel = float(double(spec.count) / double(spec.count - 1));
  Expr batchVar = 1.0f / (invStd(i) * invStd(i)) - Expr(spec.epsilon);
  Expr unbiased = batchVar * bessel;
  st.output = Func("new_running_stats");
  st.output(i) =
      Tuple(keep * runningMean(i) + momentum * mean(i), keep * runningVar(i) + momentum * unbiased);
  constrainTupleOutput(st.output, st.size);
  sched.scheduleVectorUpdate(st);
  return finish({st.output}, {runningMean, runningVar, mean, invStd});
}

} // namespace resnetc::kernelgen
