//===- KernelsInternal.h - Helpers shared by the kernel builders -*- C++ -*-===//
//
// Not part of the generator's interface: buffer constraints and small helpers
// used by Kernels.cpp and TrainingKernels.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELGEN_KERNELSINTERNAL_H
#define RESNETC_KERNELGEN_KERNELSINTERNAL_H

#include "Kernels.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace resnetc::kernelgen::detail {

using namespace Halide;

/// Every buffer is dense with dimension 0 innermost and starts at 0.
inline void constrainDense(OutputImageParam param, const std::vector<int> &extents) {
  int stride = 1;
  for (size_t i = 0; i < extents.size(); ++i) {
    param.dim(int(i)).set_min(0).set_extent(extents[i]).set_stride(stride);
    stride *= extents[i];
  }
}

inline Halide::ImageParam makeInput(const char *name, const std::vector<int> &extents,
                                    Type type = Float(32)) {
  ImageParam param(type, int(extents.size()), name);
  constrainDense(param, extents);
  return param;
}

/// An input the spec may leave out (a bias, a residual): declared and
/// appended to `inputs` when `wanted`, else undefined.
inline Halide::ImageParam optionalInput(bool wanted, const char *name,
                                        const std::vector<int> &extents,
                                        std::vector<Halide::ImageParam> &inputs) {
  if (!wanted)
    return Halide::ImageParam();
  inputs.push_back(makeInput(name, extents));
  return inputs.back();
}

inline int i32(int64_t v) { return int(v); }

/// conv2d_grad_input's epilogue: with residual=1 another gradient of the
/// input (`addend`) is added in, with relu=1 the sum is masked by a relu's
/// forward output. Declares those inputs (shaped like the result, appended
/// to `inputs` in call order) and applies them to a value at (c, x, y, n).
struct GradInputEpilogue {
  ImageParam addend, reluOutput;
  bool residual = false, relu = false;

  GradInputEpilogue(const KernelSpec &spec, const std::vector<int> &extents,
                    std::vector<ImageParam> &inputs)
      : residual(spec.residual), relu(spec.relu) {
    if (residual)
      inputs.push_back(addend = makeInput("addend", extents));
    if (relu)
      inputs.push_back(reluOutput = makeInput("relu_output", extents));
  }

  Expr apply(Expr value, Expr c, Expr x, Expr y, Expr n) const {
    if (residual)
      value = value + addend(c, x, y, n);
    if (relu)
      value = select(reluOutput(c, x, y, n) > 0.0f, value, 0.0f);
    return value;
  }
};

/// The geometry every conv-like kernel reads from its spec: the input
/// NxCxHxW, the weight KxCxRxS, the forward output's PxQ, strides, padding.
template <typename Stages>
void setConvGeometry(Stages &st, const KernelSpec &spec, const std::vector<int64_t> &forwardOut) {
  st.N = i32(spec.input[0]);
  st.C = i32(spec.input[1]);
  st.H = i32(spec.input[2]);
  st.W = i32(spec.input[3]);
  st.K = i32(spec.weight[0]);
  st.R = i32(spec.weight[2]);
  st.S = i32(spec.weight[3]);
  st.P = i32(forwardOut[2]);
  st.Q = i32(forwardOut[3]);
  st.strideH = i32(spec.strideH);
  st.strideW = i32(spec.strideW);
  st.padH = i32(spec.padH);
  st.padW = i32(spec.padW);
}

/// NHWC extents (C, W, H, N) of a PyTorch-order NxCxHxW shape.
inline std::vector<int> nhwc(const std::vector<int64_t> &nchw) {
  return {i32(nchw[1]), i32(nchw[3]), i32(nchw[2]), i32(nchw[0])};
}

inline Expr maybeRelu(Expr value, bool relu) { return relu ? max(value, 0.0f) : value; }

inline KernelPipeline finish(std::vector<Func> outputs, const std::vector<ImageParam> &inputs) {
  KernelPipeline result{Pipeline(outputs), {}};
  for (const ImageParam &p : inputs)
    result.arguments.push_back(p);
  result.inputs = inputs;
  return result;
}

/// A 3x3 correlation at stride 1 for the Winograd algorithm
/// (WinogradStages): the result's extents, the source (Ci x sourceW x
/// sourceH x N, zero outside), its padding, the kernel taps and the
/// kernel's epilogue of the value at (co, x, y, n).
struct WinogradProblem {
  int Co = 1, Ci = 1, W = 1, H = 1, N = 1;
  int sourceW = 1, sourceH = 1, padX = 0, padY = 0;
  /// The largest output tile m the kernel accepts (see Scheduler::winogradTile).
  int largestTile = 4;
  ImageParam source;
  std::function<Expr(Expr co, Expr ci, Expr a, Expr b)> tap;
  /// Set: the filter transformed at load time (co, ci, u, v) for tile
  /// largestTile, which the kernel then takes; `tap` is not read.
  Func preparedFilter;
  std::function<Expr(Expr value)> epilogue;
  Var co, x, y, n;
};

/// The extents of `problem`'s WinogradStages (for Scheduler::winogradTile).
WinogradStages winogradShape(const WinogradProblem &problem);

/// The largest output tile m, at most problem.largestTile, that the target
/// takes for `problem` (F(4x4) declined may still leave F(2x2), whose
/// transformed filter is 16/36 the size); 0 for the direct algorithm.
int chooseWinogradTile(const Scheduler &sched, WinogradProblem problem);

/// Defines filter(co, ci, u, v), the 3x3 `tap` transformed for
/// F(m x m, 3 x 3) (G tap G^T), through rows(co, ci, u, b). Defined in
/// WinogradKernels.cpp, shared by the conv and the load-time fold.
void defineWinogradFilter(Func &rows, Func &filter, int m,
                          const std::function<Expr(Expr co, Expr ci, Expr a, Expr b)> &tap,
                          const Var &co, const Var &ci, const Var &u, const Var &v);

/// The load-time layout of a transformed filter (Scheduler::winogradFilterBlock):
/// per point (u, v), blocks of B output channels, in each block C rows of B
/// channels; B = K is (co, ci, u, v), co innermost. winogradFilterInBlocks
/// writes `filter(co, ci, u, v)` in it, one flat dimension (the fold);
/// winogradFilterView reads it back as filter(co, ci, u, v) (the conv).
/// Both defined in WinogradKernels.cpp.
Func winogradFilterInBlocks(Func filter, int K, int C, int alpha, int B);
Func winogradFilterView(Func blocks, int K, int C, int alpha, int B);

/// The Winograd algorithm of `problem` with output tile m. Defined in
/// WinogradKernels.cpp.
WinogradStages winogradConv3x3(const WinogradProblem &problem, int m);

/// conv2d_grad_weight's Winograd stages (ConvGradWeightStages with
/// winograd = m): the zero-extended output_grad and input, their tiles'
/// transforms and `partial`, over st.red. Needs the geometry, the blocks,
/// k, c, s, r, bp and bn set. Defined in WinogradKernels.cpp.
void defineWinogradGradWeight(ConvGradWeightStages &st, ImageParam grad, ImageParam input);
/// Then, with `sums` defined, `output` = G^T sums G (through outputRows).
void defineWinogradGradWeightOutput(ConvGradWeightStages &st);

/// The per-image, per-channel sum over H and W of `term(c, x, y, n)` on an
/// NHWC extent (C, W, H, N), rows in order (global_avg_pool, spatial_dot):
/// sum(c, n) = 0; sum(c, n) += term(c, r.x, r.y, n); `output` left for the
/// caller to define.
inline GlobalAvgPoolStages spatialSum(const std::vector<int> &ext,
                                      const std::function<Expr(Expr, Expr, Expr, Expr)> &term) {
  GlobalAvgPoolStages st;
  st.C = ext[0];
  st.W = ext[1];
  st.H = ext[2];
  st.N = ext[3];
  st.c = Var("c");
  st.n = Var("n");
  st.r = RDom(0, st.W, 0, st.H, "r");
  st.sum = Func("sum");
  st.sum(st.c, st.n) = 0.0f;
  st.sum(st.c, st.n) += term(st.c, st.r.x, st.r.y, st.n);
  st.output = Func("output");
  return st;
}

inline ElementwiseStages elementwiseFrame(const std::vector<int64_t> &outShape) {
  ElementwiseStages st;
  st.output = Func("output");
  st.c = Var("c");
  st.x = Var("x");
  st.y = Var("y");
  st.n = Var("n");
  st.N = i32(outShape[0]);
  st.C = i32(outShape[1]);
  st.H = i32(outShape[2]);
  st.W = i32(outShape[3]);
  return st;
}

} // namespace resnetc::kernelgen::detail

#endif // RESNETC_KERNELGEN_KERNELSINTERNAL_H
