//===- DropoutKernel.cpp - Inverted dropout --------------------------------===//
//
// output = keep ? input / (1 - rate) : 0, with keep drawn from (seed, step,
// stream, NCHW index) by resnetc/KernelSpec/DropoutMask.h, the same
// definition the reference executor uses. The seed buffer holds {seed, step}.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "KernelsInternal.h"
#include "resnetc/KernelSpec/DropoutMask.h"

namespace resnetc::dropout {
template <> Halide::Expr constant<Halide::Expr>(uint32_t value) {
  return Halide::Internal::make_const(Halide::UInt(32), uint64_t(value));
}
} // namespace resnetc::dropout

namespace resnetc::kernelgen {

using namespace Halide;
using namespace detail;

KernelPipeline buildDropout(const KernelSpec &spec, const Scheduler &sched) {
  ElementwiseStages st = elementwiseFrame(spec.input);
  std::vector<int> ext = nhwc(spec.input);
  ImageParam input = makeInput("input", ext);
  ImageParam seed = makeInput("seed", {2}, Int(32));
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  Expr key =
      dropout::key<Expr>(cast<uint32_t>(seed(0)), cast<uint32_t>(seed(1)), uint32_t(spec.stream));
  Expr index = cast<uint32_t>(((n * st.C + c) * st.H + y) * st.W + x);
  Expr keep =
      dropout::bits<Expr>(index, key) >= dropout::constant<Expr>(dropout::threshold(spec.rate));
  st.output(c, x, y, n) = select(keep, input(c, x, y, n) * dropout::keptScale(spec.rate), 0.0f);
  constrainDense(st.output.output_buffer(), ext);
  sched.scheduleElementwise(st);
  return finish({st.output}, {input, seed});
}

} // namespace resnetc::kernelgen
