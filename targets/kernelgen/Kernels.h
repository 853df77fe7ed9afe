//===- Kernels.h - Target-independent Halide algorithms --------*- C++ -*-===//
//
// One function per kernel kind builds the Halide algorithm for a KernelSpec,
// constrains every buffer to its static shape and layout, hands the stages to
// a target's Scheduler and returns the Pipeline with its input arguments.
//
// Layouts (Halide dimension 0 innermost):
//   activation NHWC       (c, x, y, n)  extents (C, W, H, N)
//   user input NCHW       (x, y, c, n)  extents (W, H, C, N)
//   2-D activation        (c, n)        extents (C, N)
//   conv weight OIHW      (s, r, c, k)  extents (S, R, C, K)
//   packed conv weight    (k, c, s, r)  extents (K, C, S, R)
//   dense weight KxC      (c, k)        extents (C, K)
//   per-channel vector    (c)           extent C
// All buffers are dense: the stride of dimension i is the product of the
// extents of the dimensions inside it.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELGEN_KERNELS_H
#define RESNETC_KERNELGEN_KERNELS_H

#include "KernelSpec.h"

#include "Halide.h"

#include <vector>

namespace resnetc::kernelgen {

/// A pipeline ready to compile. `arguments` are the inputs in call order; the
/// generated function takes them after `__user_context`, followed by one
/// buffer per pipeline output (in the order of the pipeline's outputs).
struct KernelPipeline {
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> arguments;
};

// Handles on the stages of each algorithm, for the schedules. The integer
// fields are the static extents.

/// 4-D NHWC elementwise kernels (batch_norm, add, relu, zero_pad_shortcut):
/// output(c, x, y, n) over extents (C, W, H, N).
struct ElementwiseStages {
  Halide::Func output;
  Halide::Var c, x, y, n;
  int C = 1, W = 1, H = 1, N = 1;
  /// Per-channel helpers (e.g. the batch-norm scale) that should be
  /// computed once per call.
  std::vector<Halide::Func> perChannel;
};

/// nchw_to_nhwc: output(c, x, y, n) = input(x, y, c, n).
struct LayoutStages {
  Halide::Func output;
  Halide::Var c, x, y, n;
  int C = 1, W = 1, H = 1, N = 1;
};

/// conv2d:
///   inputTile(c, x, y, n) = zero-padded input
///   conv(k, x, y, n) = bias(k) or 0
///   conv(k, x, y, n) += weight(k, r.x, r.y, r.z) *
///                       inputTile(r.x, x*SW + r.y - PW, y*SH + r.z - PH, n)
///   output(k, x, y, n) = relu?(conv + residual?)
/// The reduction domain r is (input channel, kx, ky), innermost first.
struct Conv2DStages {
  Halide::Func output, conv, inputTile;
  Halide::ImageParam weight;
  Halide::Var k, x, y, n;
  Halide::RDom r;
  int K = 1, Q = 1, P = 1, N = 1; // output extents (k, x, y, n)
  int C = 1, W = 1, H = 1;        // input extents
  int R = 1, S = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
};

/// max_pool2d: pool(c, x, y, n) = -inf, then
/// pool(c, x, y, n) = max(pool, padded(c, x*SW + r.x - PW, y*SH + r.y - PH, n))
/// with r over (kx, ky) and -inf outside the input; output = pool.
struct MaxPoolStages {
  Halide::Func output, pool;
  Halide::Var c, x, y, n;
  Halide::RDom r;
  int C = 1, Q = 1, P = 1, N = 1; // output extents
  int R = 1, S = 1;               // pooling window (height, width)
};

/// global_avg_pool: sum(c, n) = 0; sum(c, n) += input(c, r.x, r.y, n);
/// output(c, n) = sum(c, n) / (H*W).
struct GlobalAvgPoolStages {
  Halide::Func output, sum;
  Halide::Var c, n;
  Halide::RDom r;
  int C = 1, N = 1, W = 1, H = 1;
};

/// dense: output(k, n) = bias(k) or 0; output(k, n) += input(r, n) * weight(r, k).
struct DenseStages {
  Halide::Func output;
  Halide::Var k, n;
  Halide::RDom r;
  int K = 1, C = 1, N = 1;
};

/// pack_conv_weight and fold_pack_conv_weight:
/// packed(k, c, s, r) = weight(s, r, c, k) [* scale(k)];
/// foldedBias(k) (fold only). `scale` is defined for fold only.
struct PackStages {
  Halide::Func packed, foldedBias, scale;
  Halide::Var k, c, s, r;
  int K = 1, C = 1, S = 1, R = 1;
};

/// A target's schedules. Each method schedules the stages of one algorithm;
/// it must not change what is computed.
class Scheduler {
public:
  virtual ~Scheduler();
  virtual void scheduleLayout(LayoutStages &stages) const = 0;
  virtual void scheduleElementwise(ElementwiseStages &stages) const = 0;
  virtual void scheduleConv2D(Conv2DStages &stages) const = 0;
  virtual void scheduleMaxPool(MaxPoolStages &stages) const = 0;
  virtual void scheduleGlobalAvgPool(GlobalAvgPoolStages &stages) const = 0;
  virtual void scheduleDense(DenseStages &stages) const = 0;
  virtual void schedulePack(PackStages &stages) const = 0;
};

// One builder per kind. The spec must have been accepted by parseKernelSpec.
KernelPipeline buildNchwToNhwc(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildConv2D(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNorm(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildAdd(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildRelu(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildMaxPool2D(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildGlobalAvgPool(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildDense(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildZeroPadShortcut(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildPackConvWeight(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildFoldPackConvWeight(const KernelSpec &spec, const Scheduler &sched);

/// Dispatches on spec.kind.
KernelPipeline buildKernel(const KernelSpec &spec, const Scheduler &sched);

} // namespace resnetc::kernelgen

#endif // RESNETC_KERNELGEN_KERNELS_H
