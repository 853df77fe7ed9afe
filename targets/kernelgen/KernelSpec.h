//===- KernelSpec.h - Parsed kernel specification --------------*- C++ -*-===//
//
// A kernel specification is a canonical string of `key=value` pairs joined by
// `;` (sizes joined by `x`), for example
//
//   kind=conv2d;input=1x16x32x32;weight=32x16x3x3;strides=2x2;padding=1x1;
//   bias=1;residual=0;relu=1
//
// parseKernelSpec() turns it into a KernelSpec, rejecting unknown, missing and
// duplicate keys, malformed numbers and inconsistent shapes.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELGEN_KERNELSPEC_H
#define RESNETC_KERNELGEN_KERNELSPEC_H

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::kernelgen {

enum class KernelKind {
  NchwToNhwc,
  Conv2D,
  BatchNorm,
  Add,
  Relu,
  MaxPool2D,
  GlobalAvgPool,
  Dense,
  ZeroPadShortcut,
  PackConvWeight,
  FoldPackConvWeight,
  // The kernels of a training step.
  BatchNormTrain,
  BatchNormTrainGrad,
  ReluGrad,
  Conv2DGradInput,
  Conv2DGradWeight,
  ChannelSum,
  DenseGradInput,
  DenseGradWeight,
  MaxPool2DGrad,
  GlobalAvgPoolGrad,
  ZeroPadShortcutGrad,
  SoftmaxCrossEntropy,
  SgdUpdate,
  RunningStatsUpdate,
  UnpackConvWeight,
};

/// The spelling of a kind in the `kind=` key.
const char *kindName(KernelKind kind);

/// A parsed specification. Only the fields the kind uses are meaningful.
/// Shapes are in PyTorch order: input N x C x H x W (or N x C for dense,
/// dense_grad_*, softmax_cross_entropy and 2-D channel_sum), weight
/// K x C x R x S (or K x C for dense and dense_grad_*). For the gradient
/// kinds, `input` and `weight` describe the forward operation.
struct KernelSpec {
  KernelKind kind = KernelKind::Relu;
  std::vector<int64_t> input;  // NxCxHxW, or NxC for dense
  std::vector<int64_t> weight; // KxCxRxS, or KxC for dense
  int64_t strideH = 1, strideW = 1;
  int64_t padH = 0, padW = 0;
  int64_t kernelH = 1, kernelW = 1; // max_pool2d
  bool bias = false;
  bool residual = false;
  bool relu = false;
  float epsilon = 0.0f;
  int64_t outChannels = 0;  // zero_pad_shortcut
  int64_t stride = 1;       // zero_pad_shortcut(_grad)
  int64_t size = 0;         // sgd_update: element count
  int64_t channels = 0;     // running_stats_update
  int64_t count = 0;        // running_stats_update: M = N*H*W
  float momentum = 0.0f;    // sgd_update, running_stats_update
  float weightDecay = 0.0f; // sgd_update
  /// conv2d, optional `weights=blocked`: the weights come in the blocked
  /// layout (Kernels.h) that fold_pack_conv_weight with `blocked_for` makes.
  bool blockedWeights = false;
  /// fold_pack_conv_weight, optional `blocked_for=QxP`: pack into the
  /// blocked layout of the conv2d whose output is Q wide and P high.
  int64_t blockedForQ = 0, blockedForP = 0;

  /// Shape in PyTorch order of the (first) output: N x C x H x W, or N x K
  /// for dense and N x C for global_avg_pool; K x C x R x S for the weight
  /// kinds and conv2d_grad_weight; the forward input's shape for the
  /// input-gradient kinds and batch_norm_train; K x C for dense_grad_weight;
  /// C for channel_sum, size for sgd_update, channels for
  /// running_stats_update.
  std::vector<int64_t> outputShape() const;

  /// Output shape of the forward operation of a gradient kind (the shape of
  /// its output_grad argument): N x K x P x Q for conv2d_grad_*,
  /// N x C x P x Q for max_pool2d_grad, N x K for dense_grad_*, N x C for
  /// global_avg_pool_grad, N x K x H/S x W/S for zero_pad_shortcut_grad.
  /// Empty for other kinds.
  std::vector<int64_t> forwardOutputShape() const;

  /// The canonical spec string (keys in a fixed order per kind).
  std::string toString() const;
};

/// Parses `text`. On failure returns false and sets `error` to a one-line
/// reason (without the "error:" prefix).
bool parseKernelSpec(const std::string &text, KernelSpec &spec, std::string &error);

} // namespace resnetc::kernelgen

#endif // RESNETC_KERNELGEN_KERNELSPEC_H
