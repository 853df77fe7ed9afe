//===- GateKernels.cpp - Squeeze-and-excitation gates ----------------------===//
//
// sigmoid and its gradient (element-wise), channel_mul (each image's
// channels times their own factor) and spatial_dot (its scale's gradient: a
// per-image, per-channel sum over H and W in row order, like the global
// average pool's).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "KernelsInternal.h"

namespace resnetc::kernelgen {

using namespace Halide;
using namespace detail;

KernelPipeline buildSigmoid(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = 1.0f / (1.0f + exp(-input(c, x, y, n)));
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input});
}

KernelPipeline buildSigmoidGrad(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam grad = makeInput("output_grad", ext);
  ImageParam output = makeInput("sigmoid_output", ext);
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  Expr s = output(c, x, y, n);
  st.output(c, x, y, n) = grad(c, x, y, n) * (s * (1.0f - s));
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {grad, output});
}

KernelPipeline buildChannelMul(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ImageParam scale = makeInput("scale", {st.C, st.N});
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  st.output(c, x, y, n) = input(c, x, y, n) * scale(c, n);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input, scale});
}

KernelPipeline buildSpatialDot(const KernelSpec &spec, const Scheduler &sched) {
  std::vector<int> ext = nhwc(spec.input);
  ImageParam lhs = makeInput("lhs", ext);
  ImageParam rhs = makeInput("rhs", ext);
  GlobalAvgPoolStages st = spatialSum(
      ext, [&](Expr c, Expr x, Expr y, Expr n) { return lhs(c, x, y, n) * rhs(c, x, y, n); });
  st.output(st.c, st.n) = st.sum(st.c, st.n);
  constrainDense(st.output.output_buffer(), {st.C, st.N});
  sched.scheduleGlobalAvgPool(st);
  return finish({st.output}, {lhs, rhs});
}

} // namespace resnetc::kernelgen
