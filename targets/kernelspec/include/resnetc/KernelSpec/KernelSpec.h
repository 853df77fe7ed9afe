//===- KernelSpec.h - The contract between compiler and kernels -*- C++ -*-===//
//
// One kernel the compiler asks for: its kind and static sizes. The compiler's
// kernel plan fills the struct; resnetc-kernelgen builds the Halide pipeline
// from it. Plain C++17 with no dependencies, so that both halves (MLIR/LLVM 22
// and Halide/LLVM 14) link it.
//
// The text form, which travels on resnetc-kernelgen's command line and keys
// the kernel cache, is toString()'s canonical string of `key=value` pairs
// joined by `;` (sizes joined by `x`), for example
//
//   kind=conv2d;input=1x16x32x32;weight=32x16x3x3;strides=2x2;padding=1x1;
//   bias=1;residual=0;relu=1
//
// arguments() lists the kernel's buffers in call order with their extents:
// the plan passes exactly these, and the kernel builders declare exactly these.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELSPEC_KERNELSPEC_H
#define RESNETC_KERNELSPEC_KERNELSPEC_H

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc {

enum class KernelKind {
  NchwToNhwc,
  NhwcToNchw,
  Conv2D,
  BatchNorm,
  Add,
  Relu,
  MaxPool2D,
  GlobalAvgPool,
  Dense,
  ZeroPadShortcut,
  Scale,
  PackConvWeight,
  FoldPackConvWeight,
  // The kernels of a training step.
  BatchNormTrain,
  BatchNormTrainGrad,
  ReluGrad,
  Conv2DGradInput,
  Conv2DGradWeight,
  ChannelSum,
  ChannelDot,
  DenseGradInput,
  DenseGradWeight,
  MaxPool2DGrad,
  GlobalAvgPoolGrad,
  ZeroPadShortcutGrad,
  SoftmaxCrossEntropy,
  SgdUpdate,
  RunningStatsUpdate,
  UnpackConvWeight,
  // Inverted dropout (training; its gradient is the same kernel on dy).
  Dropout,
  // Squeeze-and-excitation gates: sigmoid, per-image channel scaling, and
  // their gradients.
  Sigmoid,
  SigmoidGrad,
  ChannelMul,
  SpatialDot,
  // Synchronised batch norm: batch_norm_train(_grad) in stages.
  ChannelMean,
  ChannelVariance,
  BatchNormNormalize,
  BatchNormGradSums,
  BatchNormGradInput,
};

/// The spelling of a kind in the `kind=` key.
const char *kindName(KernelKind kind);

/// One buffer a kernel takes, in call order (after `__user_context`).
struct KernelArgument {
  std::string role; ///< "input", "weight", "output", "input_grad", ...
  /// Halide's dimension order, innermost first (the layouts of
  /// targets/kernelgen/README.md); every buffer is dense in this order.
  std::vector<int64_t> extents;
  bool isInt32 = false; ///< Labels and the number correct; float32 otherwise.
  bool isOutput = false;

  int64_t elements() const;
};

/// A kernel. Only the fields the kind uses are meaningful. Shapes are in
/// PyTorch order: input N x C x H x W (or N x C for dense, dense_grad_*,
/// softmax_cross_entropy and 2-D channel_sum), weight K x C x R x S (or K x C
/// for dense and dense_grad_*). For the gradient kinds, `input` and `weight`
/// describe the forward operation.
struct KernelSpec {
  KernelKind kind = KernelKind::Relu;
  std::vector<int64_t> input;  // NxCxHxW, or NxC for dense
  std::vector<int64_t> weight; // KxCxRxS, or KxC for dense
  int64_t strideH = 1, strideW = 1;
  int64_t padH = 0, padW = 0;
  int64_t kernelH = 1, kernelW = 1; // max_pool2d
  /// conv2d and conv2d_grad_*, optional (1 when left out): the weight is
  /// K x C/groups x R x S, output channel k reading the input channels of
  /// group k / (K/groups); taps dilationH/W apart.
  int64_t groups = 1;
  int64_t dilationH = 1, dilationW = 1;
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
  float rate = 0.0f;        // dropout: the probability of a zero
  int64_t stream = 0;       // dropout: the layer's random stream
  /// conv2d, optional `weights=blocked`: the weights come in the blocked
  /// layout (targets/kernelgen/Kernels.h) that fold_pack_conv_weight with
  /// `blocked_for` makes.
  bool blockedWeights = false;
  /// conv2d, optional `weights=winograd`: the weights come transformed for
  /// Winograd's F(m x m, 3 x 3), m = winogradTile, as K x C x alpha x alpha
  /// (alpha = m + 2; K innermost), which fold_pack_conv_weight with
  /// `winograd_filter=m` makes; the kernel then takes exactly that algorithm.
  bool winogradWeights = false;
  /// conv2d, optional `winograd=4`: the largest output tile m of the
  /// Winograd algorithm F(m x m, 3 x 3) a 3x3 conv at stride 1 may take (2 when
  /// left out). The compiler decides it (docs/winograd.md), the target whether
  /// the algorithm pays at that shape.
  int64_t winogradTile = 2;
  /// fold_pack_conv_weight, optional `blocked_for=QxP`: pack into the
  /// blocked layout of the conv2d whose output is Q wide and P high.
  int64_t blockedForQ = 0, blockedForP = 0;
  /// fold_pack_conv_weight, optional `winograd_filter=m` (2 or 4): fold, then
  /// transform the 3x3 filter for F(m x m, 3 x 3) (0 when left out).
  int64_t winogradFilterTile = 0;

  /// Shape in PyTorch order of the (first) output: N x C x H x W, or N x K
  /// for dense and N x C for global_avg_pool; K x C x R x S for the weight
  /// kinds and conv2d_grad_weight; the forward input's shape for the
  /// input-gradient kinds and batch_norm_train; K x C for dense_grad_weight;
  /// C for channel_sum and channel_dot, size for sgd_update, channels for
  /// running_stats_update.
  std::vector<int64_t> outputShape() const;

  /// Output shape of the forward operation of a gradient kind (the shape of
  /// its output_grad argument): N x K x P x Q for conv2d_grad_*,
  /// N x C x P x Q for max_pool2d_grad, N x K for dense_grad_*, N x C for
  /// global_avg_pool_grad, N x K x H/S x W/S for zero_pad_shortcut_grad.
  /// Empty for other kinds.
  std::vector<int64_t> forwardOutputShape() const;

  /// A conv kind with groups or dilation (the general direct algorithm).
  bool isGroupedOrDilated() const { return groups != 1 || dilationH != 1 || dilationW != 1; }
  /// A 3x3 conv kind at stride 1 without groups or dilation: the shape the
  /// Winograd algorithm computes.
  bool isWinogradShape() const {
    return weight.size() == 4 && weight[2] == 3 && weight[3] == 3 && strideH == 1 && strideW == 1 &&
           !isGroupedOrDilated();
  }

  /// The kernel's buffers in call order: its inputs, then its outputs.
  /// Meaningful for a spec that checkKernelSpec accepts.
  std::vector<KernelArgument> arguments() const;

  /// The canonical spec string (keys in a fixed order per kind; floats in
  /// their shortest form that reads back to the same float).
  std::string toString() const;
};

/// Checks that the fields the kind uses are in range and agree with each
/// other (channels, window sizes, element counts below 2^29). On failure
/// returns false and sets `error` to a one-line reason.
bool checkKernelSpec(const KernelSpec &spec, std::string &error);

/// Parses `text` and checks it with checkKernelSpec, rejecting unknown,
/// missing and duplicate keys and malformed numbers. On failure returns false
/// and sets `error` to a one-line reason (without the "error:" prefix).
bool parseKernelSpec(const std::string &text, KernelSpec &spec, std::string &error);

/// The extent of a sliding window's output along one axis: one shape rule
/// for the dialect's shape inference and the kernels.
inline int64_t slidingWindowExtent(int64_t input, int64_t window, int64_t stride, int64_t padding,
                                   int64_t dilation = 1) {
  return (input + 2 * padding - (window - 1) * dilation - 1) / stride + 1;
}

} // namespace resnetc

#endif // RESNETC_KERNELSPEC_KERNELSPEC_H
