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
//   blocked conv weight   (i)           extent K*C*S*R: (k, c, s, r) at
//                         k%B + B*(c + C*(s + S*(r + R*(k/B)))), B from
//                         Scheduler::convWeightBlock (B = K: the packed layout)
//   dense weight KxC      (c, k)        extents (C, K)
//   per-channel vector    (c)           extent C
//   1-D vector            (i)           extent size (sgd_update, labels, ...)
// All buffers are dense: the stride of dimension i is the product of the
// extents of the dimensions inside it.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_KERNELGEN_KERNELS_H
#define RESNETC_KERNELGEN_KERNELS_H

#include "resnetc/KernelSpec/KernelSpec.h"

#include "Halide.h"

#include <vector>

namespace resnetc::kernelgen {

/// A pipeline ready to compile. `arguments` are the inputs in call order; the
/// generated function takes them after `__user_context`, followed by one
/// buffer per pipeline output (in the order of the pipeline's outputs).
struct KernelPipeline {
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> arguments;
  /// The same inputs as parameters, with their shape constraints (a
  /// benchmark or test binds buffers to them to run the pipeline JIT).
  std::vector<Halide::ImageParam> inputs;
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
  /// nhwc_to_nchw: output(x, y, c, n) = input(c, x, y, n) (a backbone's outputs).
  bool toNchw = false;
};

/// conv2d:
///   inputTile(c, x, y, n) = zero-padded input (edge-clamped where the
///                           padding taps are skipped: never read there)
///   conv(k, x, y, n) = bias(k) or 0
///   conv(k, x, y, n) += weight(k, r.x, r.y, r.z) *
///                       inputTile(r.x, x*SW + r.y - PW, y*SH + r.z - PH, n)
///   output(k, x, y, n) = relu?(conv + residual?)
/// The reduction domain r is (input channel, kx, ky), innermost first.
struct Conv2DStages {
  Halide::Func output, conv, inputTile;
  /// weight(k, c, s, r): the packed weights, or a view of the blocked ones.
  Halide::Func weight;
  /// The blocked layout's block of output channels; 0: the packed layout.
  int weightBlock = 0;
  Halide::Var k, x, y, n;
  Halide::RDom r;
  int K = 1, Q = 1, P = 1, N = 1; // output extents (k, x, y, n)
  int C = 1, W = 1, H = 1;        // input extents
  int R = 1, S = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
  /// The reduction skips the taps that fall on the zero padding (an RDom
  /// predicate on x and y); chosen by Scheduler::skipsConvPaddingTaps.
  /// The schedule may then read the input in place.
  bool skipPaddingTaps = false;
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
/// unpack_conv_weight (the inverse of pack_conv_weight) defines only
/// unpacked(s, r, c, k) = packed(k, c, s, r).
/// With `blocked_for` (fold only), the output is instead
/// blocked(i) = packed(...) in the blocked layout, and packed is internal.
struct PackStages {
  Halide::Func packed, foldedBias, scale, unpacked, blocked;
  /// fold_pack_conv_weight with winograd_filter=m: the folded filter
  /// transformed for F(m x m, 3 x 3), (k, c, u, v), from its rows (k, c, u, r)
  /// (WinogradStages' filterRows and filter, once when the weights load),
  /// then laid out in blocks of output channels (winogradFilterInBlocks).
  Halide::Func winogradRows, winograd, winogradBlocks;
  Halide::Var k, c, s, r, u, v;
  int K = 1, C = 1, S = 1, R = 1;
};

// --- The kernels of a training step ---------------------------------------

/// A per-channel sum over N, H and W in a fixed order (batch_norm_train,
/// batch_norm_train_grad, channel_sum), in three levels:
///   rows(c, y, n) = 0;  rows(c, y, n) += value(c, rx, y, n)   (rx over W)
///   images(c, n) = 0;   images(c, n) += rows(c, ry, n)        (ry over H)
///   total(c) = 0;       total(c) += images(c, rn)             (rn over N)
/// All may be Tuple-valued (several sums in one pass). Rows (and images)
/// are independent of each other and may run in parallel; each level adds
/// in index order, so the result does not depend on the thread count.
/// `results` are outputs computed from the total (a mean, one sum of a
/// tuple), where the total itself is not the output.
struct ChannelReductionStages {
  Halide::Func rows, images, total;
  std::vector<Halide::Func> results;
  Halide::Var c, y, n;
  Halide::RDom rx, ry, rn;
  int C = 1, W = 1, H = 1, N = 1;
};

/// Per-channel mean and squared deviations about a center (batch_norm_train,
/// channel_variance) with one pass over the input from memory: each row's sum,
/// then its squared deviations about its own mean while the row is in cache,
///   rowSum(c, y, n) = 0;  rowSum += x(c, rx, y, n)
///   rows(c, y, n) = {0, 0, 0};  with d = x(c, rx, y, n) - rowSum / W,
///   rows = {rowSum, rows[1] + d^2, rows[2] + d}
/// then the levels of ChannelReductionStages over the rows, with
/// b = rows[0](c, ry, n) / W - center(c):
///   sumImages(c, n) += rows[0](c, ry, n);  sumTotal(c) += sumImages(c, rn)
///   devImages(c, n) += rows[1](c, ry, n) + b * (2 rows[2](c, ry, n) + W b)
///   devTotal(c) += devImages(c, rn)
/// which is sum((x - center)^2) for any center (exactly, whatever the
/// rounding of the row's mean), with no cancellation where the mean is large.
/// sumTotal is a three-level sum's total to the bit (channel_mean's); it is
/// undefined where the center is given. `results` are per-channel stages
/// computed from the totals (where the center is not given, the first is the
/// mean, sumTotal / M, which the deviations read).
struct ChannelMomentsStages {
  Halide::Func rowSum, rows, sumImages, sumTotal, devImages, devTotal;
  std::vector<Halide::Func> results;
  Halide::Var c, y, n;
  Halide::RDom rx, ry, rn;
  int C = 1, W = 1, H = 1, N = 1;
};

/// conv2d_grad_input: a convolution of the zero-padded output gradient with
/// the transposed weights, vectorised over the input channels c.
///   weightT(c, k, s, r) = weight(k, c, s, r), 0 for s >= S or r >= R
///   gradTile(k, xq, yq, n) = zero-padded output_grad (edge-clamped where the
///                            padding taps are skipped: never read there)
/// Stride 1 (no `phase`): acc(c, xq, yq, n) = 0;
///   acc += gradTile(r.x, xq - r.y, yq - r.z, n) * weightT(c, r.x, r.y, r.z)
///   output(c, x, y, n) = epilogue(acc(c, x + PW, y + PH, n))
/// where epilogue(v) = relu_output > 0 ? v + addend : 0 (each part only when
/// the spec asks for it: residual=1, relu=1).
/// Stride > 1: the input positions split into SW*SH phases: phase
/// ph = vx + SW*vy holds x = xq*SW + vx, y = yq*SH + vy. With
/// vx + PW = ax*SW + bx (and likewise ay, by), only the taps s = bx + SW*js,
/// r = by + SH*jr contribute (an RDom predicate skips the others):
///   acc(c, xq, yq, n, ph) += gradTile(r.x, xq + ax - r.y, yq + ay - r.z, n) *
///                            weightT(c, r.x, bx + SW*r.y, by + SH*r.z)
///   phased(c, xq, yq, n, ph) = acc(...)
///   output(c, x, y, n) = epilogue(phased(c, x/SW, y/SH, n, x%SW + SW*(y%SH)))
/// r is (k, js, jr), innermost first.
struct ConvGradInputStages {
  Halide::Func output, phased, acc, gradTile, weightT;
  Halide::Var c, x, y, xq, yq, n, ph;
  Halide::RDom r;
  int C = 1, W = 1, H = 1, N = 1; // result extents
  int K = 1, Q = 1, P = 1;        // output_grad extents
  int QX = 1, PY = 1;             // extents of xq and yq (W, H at stride 1)
  int phases = 1;                 // SW*SH
  int R = 1, S = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
  /// Stride 1 only: the reduction skips the taps that read the zero border
  /// of gradTile (an RDom predicate on xq and yq); chosen by
  /// Scheduler::skipsConvGradInputPaddingTaps.
  bool skipPaddingTaps = false;
};

/// A 3x3 correlation at stride 1 by Winograd's minimal filtering
/// F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016), for conv2d and conv2d_grad_input (a correlation
/// of output_grad, zero-padded by 2 - pad, with the flipped, transposed
/// weights):
///   result(co, x, y, n) = sum over ci, a, b < 3 of
///                         tap(co, ci, a, b) * source(ci, x - pad + a, y - pad + b, n)
/// Each m x m tile (tx, ty) of the result comes from the alpha x alpha
/// window d (alpha = m + 2) of the source at (tx*m - pad, ty*m - pad):
///   filterRows(co, ci, u, b) = sum_a G[u][a] tap(co, ci, a, b)    (per call)
///   filter(co, ci, u, v)     = sum_b G[v][b] filterRows(co, ci, u, b)
///                              (or read from weights=winograd: filterRows
///                              undefined, the transform made at load time)
///   sourceTile(ci, x, y, n)  = the zero-padded source
///   dataRows(ci, u, j, tx, ty, n) = sum_i BT[u][i] d(i, j)
///   data(ci, u, v, tx, ty, n)     = sum_j BT[v][j] dataRows(ci, u, j, ...)
///   acc(co, u, v, tx, ty, n) = 0; acc += filter(co, rci, u, v) * data(rci, u, v, ...)
///   product(co, u, v, tx, ty, n)  = acc(...)  (the tiles of the batched GEMM)
///   tileRows(co, i, v, tx, ty, n) = sum_u AT[i][u] product(co, u, v, ...)
///   output(co, x, y, n) = epilogue(sum_v AT[y % m][v] tileRows(co, x % m, v, x / m, y / m, n))
/// The kernel's epilogue (bias, residual, relu; or addend and relu mask)
/// is applied to the result. Matrix rows are picked with selects on u, v,
/// i, which fold away where those loops are unrolled.
struct WinogradStages {
  Halide::Func output, filterRows, filter, sourceTile, dataRows, data, acc, product, tileRows;
  Halide::Var co, x, y, n, ci, u, v, tx, ty;
  Halide::RDom rci;
  int m = 4, alpha = 6;
  int Co = 1, Ci = 1;         // channels of the result, and channels summed
  int W = 1, H = 1, N = 1;    // result extents
  int tilesX = 1, tilesY = 1; // ceil(W / m) x ceil(H / m)
};

/// conv2d, conv2d_grad_input and conv2d_grad_weight with groups or dilation
/// (GroupedConvKernels.cpp): the direct algorithm with the channels in G
/// groups of Cg inputs and Kg outputs, taps D apart. Each kind is a sum
/// acc(i, g, a, b, n) over r, where i is a channel within group g (the
/// vectorised dimension; no division in the inner loops), and an output
/// that reads it at (ch % per, ch / per, ...), with per = Kg or Cg:
///   conv2d:      acc(kk, g, x, y, n) += weight(g*Kg + kk, r.x, r.y, r.z) *
///                  source(g*Cg + r.x, x*SW + r.y*DW - PW, y*SH + r.z*DH - PH, n)
///                output(k, x, y, n) = relu?(acc(k % Kg, k / Kg, x, y, n) + bias? + residual?)
///   grad_input:  acc(cc, g, x, y, n) += source(g*Kg + r.x, (x + PW - r.y*DW)/SW,
///                  (y + PH - r.z*DH)/SH, n) * weightT(cc, g, r.x, r.y, r.z)
///                over the taps whose divisions are exact (an RDom predicate);
///                weightT(cc, g, kk, s, r) = weight(g*Kg + kk, cc, s, r);
///                output(c, x, y, n) = epilogue(acc(c % Cg, c / Cg, x, y, n))
///   grad_weight: acc(kk, g, c, s, r) += output_grad(g*Kg + kk, r.x, r.y, r.z) *
///                  source(g*Cg + c, r.x*SW + s*DW - PW, r.y*SH + r*DH - PH, r.z)
///                output(k, c, s, r) = acc(k % Kg, k / Kg, c, s, r)
/// `source` is the zero-padded input (output_grad for grad_input). Each
/// element's sum runs over r in order, whatever the schedule.
struct GroupedConvStages {
  KernelKind kind = KernelKind::Conv2D;
  Halide::Func output, acc, source;
  Halide::Func weightT;      ///< grad_input only.
  Halide::Var i, g, a, b, n; ///< acc's variables (grad_weight: i, g, c, s, r).
  Halide::RDom r;
  int groups = 1, per = 1;  ///< G, and i's extent.
  int A = 1, B = 1, Nn = 1; ///< Extents of a, b and n.
  int64_t macs = 0;         ///< Multiply-adds of the whole kernel.
};

/// conv2d with groups, the blocked algorithm a target chooses with
/// Scheduler::groupedConvBlock (GroupedConvKernels.cpp): output channels in
/// blocks of B, which fill whole vectors: M = B / Kg whole groups (B > Kg),
/// or I = B channels of one group (M = 1). In block b, output channel
/// b*B + h*I + i is (h, i): group h of the block (I = Kg), channel i. The
/// weights are packed per block and the input staged per block with the
/// M groups' channel j side by side, so that the inner loop reads the
/// weights as vectors and the input as a broadcast of M values:
///   packedWeight(h, i, j, s, r, b) = weight(b*B + h*I + i, j, s, r)
///   staged(h, j, x, y, b, n) = source(group(b, h)*Cg + j, x, y, n)
///     (the input at clamped coordinates; updates write the zero padding:
///     columns left and right, then rows outside the input)
///   acc(h, i, x, y, b, n) = bias?;  acc += packedWeight(h, i, r.x, r.y, r.z, b) *
///     staged(h, r.x, x*SW + r.y*DW - PW, y*SH + r.z*DH - PH, b, n)
///   output(k, x, y, n) = relu?(acc(k % B / I, k % I, x, y, k / B, n) + residual?)
/// The reduction order of each element is that of GroupedConvStages (r.x
/// innermost): both algorithms add the same products in the same order.
struct GroupedConvBlockStages {
  Halide::Func output, acc, staged, packedWeight;
  Halide::Var h, i, j, x, y, b, n;
  Halide::RDom r;
  std::vector<Halide::RDom> stagedPadding;         ///< staged's updates, zeros at the padding.
  int block = 1, groupsPerBlock = 1, perGroup = 1; ///< B, M and I.
  int Cg = 1, Q = 1, P = 1, blocks = 1, N = 1;     ///< Q x P output; blocks = K / B.
  int64_t macs = 0;
};

/// conv2d_grad_weight: a reduction over N*P*Q, blocked so that the blocks
/// of rows it reads stay in cache:
///   inputTile(c, x, y, n) = zero-padded input
///   partial(k, c, s, r, bp, bn) = 0
///   partial += grad(k, q, p, n) * inputTile(c, q*SW + s - PW, p*SH + r - PH, n)
///     over red = (q, pi, ni), p = bp*blockRows + pi, n = bn*blockImages + ni
///   output(k, c, s, r) = 0;  output += partial(k, c, s, r, rb.x, rb.y)
/// Blocks are added in a fixed order (rb.x inner, rb.y outer).
///
/// With winograd = m (2 or 4; Scheduler::winogradGradWeightTile, 3x3 at
/// stride 1), the same reduction runs over m x m tiles of output_grad
/// instead of pixels, the alpha x alpha points (u, v) of Winograd's F(m x m,
/// 3 x 3) in the place of the taps (s, r) (WinogradKernels.cpp):
///   gradT(k, u, v, tx, ty, n) = (A dy A^T)(u, v) of output_grad's tile
///   data(c, u, v, tx, ty, n) = (B^T d B)(u, v) of the input's alpha x alpha tile
///   partial(k, c, u, v, bp, bn) += gradT(k, u, v, ...) * data(c, u, v, ...)
///     over red = (tx, tyi, ni), ty = bp*blockRows + tyi (rows of tiles)
///   sums(k, c, u, v): the blocks and chunks added up as below
///   output(k, c, s, r) = (G^T sums G)(s, r)
/// The forward tile is A^T[(G g G^T) . (B^T d B)]A, linear in g; its
/// gradient in g is G^T[(B^T d B) . (A dy A^T)]G, and the sum over tiles
/// commutes with the outer transform.
struct ConvGradWeightStages {
  Halide::Func output, partial, inputTile;
  /// With chunks > 1: chunkSum(k, c, s, r, ch) sums the blocks of chunk ch
  /// (rb covers one chunk's blocks), and `sums` sums the chunks over rc.
  Halide::Func chunkSum;
  /// The blocks' sum: output itself, or the Winograd points' sums.
  Halide::Func sums;
  /// Winograd only: output_grad zero beyond its edges, and the transforms
  /// (rows, then whole) of its tiles and of the input's; outputRows is G^T
  /// applied along s.
  Halide::Func gradTile, gradRows, gradT, dataRows, data, outputRows;
  Halide::Var k, c, s, r, bp, bn, ch;
  Halide::Var tx, ty, n; ///< Winograd only: the transforms' tile and image.
  Halide::RDom red, rb, rc;
  int K = 1, C = 1, S = 1, R = 1;
  int N = 1, P = 1, Q = 1, W = 1, H = 1;
  int strideH = 1, strideW = 1, padH = 0, padW = 0;
  int winograd = 0;          ///< Winograd's output tile m; 0: the direct algorithm.
  int sumS = 1, sumR = 1;    ///< partial's extents in s and r: S and R, or alpha.
  int stepsX = 1, rowsY = 1; ///< The reduction's columns and rows: Q and P, or tiles.
  int blockRows = 1, blockImages = 1;
  int chunks = 1; ///< Chunks of blocks of images, summed apart (Scheduler::convGradWeightChunks).
  bool padded = false; // inputTile is a zero-padded copy (else a plain call)
};

/// dense_grad_input and dense_grad_weight: a matrix product with dimension 0
/// of the result contiguous in the operand it is vectorised over:
///   output(i, j) = 0;  output(i, j) += a(r, j) * b(i, r)   (dense_grad_input)
///   output(i, j) = 0;  output(i, j) += a(j, r) * b(i, r)   (dense_grad_weight)
/// with extents (I, J) and r over Rn, summed in order.
struct DenseGradStages {
  Halide::Func output;
  Halide::Var i, j;
  Halide::RDom r;
  int I = 1, J = 1, Rn = 1;
};

/// max_pool2d_grad: best(c, q, p, n) = {value, window index r*S + s} of the
/// first maximum of each window (Tuple reduction over r = (s, r));
/// output(c, x, y, n) = sum of output_grad over the windows whose best is
/// (x, y) (a gather, written as one pure expression).
struct MaxPoolGradStages {
  Halide::Func output, best;
  Halide::Var c, x, y, n;
  Halide::RDom r;
  int C = 1, W = 1, H = 1, N = 1; // result extents
  int Q = 1, P = 1;               // output_grad extents
  int R = 1, S = 1;
};

/// softmax_cross_entropy, per row n of the logits (k, n):
///   rowMax(n), expv(k, n) = exp(logit - rowMax), rowSum(n) = sum_k expv,
///   best(n) = {value, index} of the first maximum,
///   lossSum(i) / correctSum(i): sums over the rows (extent 1), loss(i),
///   grad(k, n) = (expv / rowSum - onehot) / N (an output).
struct SoftmaxStages {
  Halide::Func rowMax, expv, rowSum, best, lossSum, correctSum, grad;
  Halide::Func loss; ///< loss(i) = lossSum(i) / N (an output)
  Halide::Var k, n, i;
  Halide::RDom rk, rn;
  int K = 1, N = 1;
};

/// sgd_update and running_stats_update: output(i) is a Tuple computed
/// element-wise from element i of the inputs. The caller passes the same
/// memory for an input and an output (in-place update): a schedule must
/// compute every element exactly once (no ShiftInwards, no recomputation).
struct VectorUpdateStages {
  Halide::Func output;
  Halide::Var i;
  int size = 1;
};

/// A target's schedules. Each method schedules one group of stages; a
/// builder whose algorithm is made of several groups calls several methods.
/// A schedule must not change what is computed.
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
  virtual void scheduleChannelReduction(ChannelReductionStages &stages) const = 0;
  virtual void scheduleChannelMoments(ChannelMomentsStages &stages) const = 0;
  virtual void scheduleConvGradInput(ConvGradInputStages &stages) const = 0;
  virtual void scheduleConvGradWeight(ConvGradWeightStages &stages) const = 0;
  virtual void scheduleDenseGrad(DenseGradStages &stages) const = 0;
  virtual void scheduleMaxPoolGrad(MaxPoolGradStages &stages) const = 0;
  virtual void scheduleSoftmax(SoftmaxStages &stages) const = 0;
  virtual void scheduleVectorUpdate(VectorUpdateStages &stages) const = 0;
  virtual void scheduleGroupedConv(GroupedConvStages &stages) const = 0;
  /// Schedules the blocked grouped conv2d of a target whose groupedConvBlock
  /// chooses it. This default computes each stage whole.
  virtual void scheduleGroupedConvBlock(GroupedConvBlockStages &stages) const;
  /// Schedules the Winograd algorithm of a target whose winogradTile
  /// chooses it. This default computes each stage
  /// whole (a correct, slow schedule).
  virtual void scheduleWinograd(WinogradStages &stages) const;

  /// Whether conv2d's reduction should skip the taps on the zero padding.
  /// It computes the same result either way; skipping saves up to a fifth
  /// of the multiply-adds of a 3x3 conv on a 7x7 image, but its predicate
  /// costs where the schedule cannot fold it into the loops. Called with
  /// the geometry set, before the algorithm is defined.
  virtual bool skipsConvPaddingTaps(const Conv2DStages &) const { return false; }
  /// The same for conv2d_grad_input at stride 1.
  virtual bool skipsConvGradInputPaddingTaps(const ConvGradInputStages &) const { return false; }
  /// The output tile m (2 or 4) of the Winograd algorithm a 3x3 conv at
  /// stride 1 (conv2d, conv2d_grad_input) should use; 0 for the direct
  /// algorithm. Called with the extents of `shape` set (Co, Ci, W, H, N).
  virtual int winogradTile(const WinogradStages &shape) const {
    (void)shape;
    return 0;
  }
  /// Whether the target runs the Winograd algorithm from a filter
  /// transformed when the weights load (conv2d's weights=winograd), at any
  /// shape the spec allows, with the tile the spec names.
  virtual bool takesWinogradWeights() const { return false; }
  /// The block B of output channels (a multiple of Kg that divides G*Kg, or
  /// a divisor of Kg) of the blocked grouped conv2d (GroupedConvBlockStages) for G groups of Cg
  /// inputs and Kg outputs; 0 for the direct GroupedConvStages algorithm.
  virtual int groupedConvBlock(int G, int Cg, int Kg) const {
    (void)G, (void)Cg, (void)Kg;
    return 0;
  }
  /// The block B of output channels of the blocked weight layout for a conv
  /// with K output and C input channels and a Q x P output: each block's
  /// weights are one contiguous run, in the order the conv reads them. B
  /// divides K; B = K is the plain packed layout.
  virtual int convWeightBlock(int K, int C, int Q, int P) const {
    (void)C, (void)Q, (void)P;
    return K;
  }
  /// The block B of output channels of a filter transformed when the
  /// weights load (winograd_filter=m / weights=winograd): per point (u, v),
  /// blocks of B output channels, each block's C rows of B one contiguous
  /// run. B divides K; B = K is (k, c, u, v) with k innermost.
  virtual int winogradFilterBlock(int K) const { return K; }
  /// How many chunks conv2d_grad_weight splits its `imageBlocks` blocks of
  /// images into (a divisor; 1: no chunks), each summed on its own, then
  /// the chunks in order: the chunks can run in parallel. A function of the
  /// shape only, so the sums do not depend on the thread count. Called with
  /// the geometry and blocks set.
  virtual int convGradWeightChunks(const ConvGradWeightStages &, int imageBlocks) const {
    (void)imageBlocks;
    return 1;
  }
  /// The output tile m (2 or 4) of the Winograd algorithm of a 3x3
  /// conv2d_grad_weight at stride 1 (ConvGradWeightStages); 0 for the direct
  /// algorithm. Called with the geometry set.
  virtual int winogradGradWeightTile(const ConvGradWeightStages &) const { return 0; }
};

// One builder per kind. The spec must have been accepted by parseKernelSpec.
KernelPipeline buildNchwToNhwc(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildNhwcToNchw(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildConv2D(const KernelSpec &spec, const Scheduler &sched);
/// conv2d and conv2d_grad_* with groups or dilation (GroupedConvKernels.cpp).
KernelPipeline buildGroupedConv(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNorm(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildAdd(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildRelu(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildMaxPool2D(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildGlobalAvgPool(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildDense(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildZeroPadShortcut(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildScale(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildPackConvWeight(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildFoldPackConvWeight(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNormTrain(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNormTrainGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildChannelMean(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildChannelVariance(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNormNormalize(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNormGradSums(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildBatchNormGradInput(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildReluGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildConv2DGradInput(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildDropout(const KernelSpec &spec, const Scheduler &sched); // DropoutKernel.cpp
// GateKernels.cpp
KernelPipeline buildSigmoid(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildSigmoidGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildChannelMul(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildSpatialDot(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildConv2DGradWeight(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildChannelSum(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildChannelDot(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildDenseGradInput(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildDenseGradWeight(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildMaxPool2DGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildGlobalAvgPoolGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildZeroPadShortcutGrad(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildSoftmaxCrossEntropy(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildSgdUpdate(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildRunningStatsUpdate(const KernelSpec &spec, const Scheduler &sched);
KernelPipeline buildUnpackConvWeight(const KernelSpec &spec, const Scheduler &sched);

/// Dispatches on spec.kind.
KernelPipeline buildKernel(const KernelSpec &spec, const Scheduler &sched);

} // namespace resnetc::kernelgen

#endif // RESNETC_KERNELGEN_KERNELS_H
