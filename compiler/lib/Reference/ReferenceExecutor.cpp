//===- ReferenceExecutor.cpp - The numerics oracle ------------------------===//
//
// Forward: every op with plain loops in double precision. Backward: the same
// ops differentiated by hand, in reverse program order, accumulating the
// gradient of each value over its uses.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Reference/ReferenceExecutor.h"
#include "resnetc/KernelSpec/DropoutMask.h"

#include "resnetc/Dialect/Rn/RnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace resnetc;
using namespace resnetc::reference;

Tensor::Tensor(std::vector<int64_t> shape, double fill) : shape(std::move(shape)) {
  int64_t count = 1;
  for (int64_t d : this->shape)
    count *= d;
  data.assign(count, fill);
}

WeightMap resnetc::reference::toWeightMap(const WeightsFile &file) {
  WeightMap map;
  for (const NamedTensor &tensor : file.tensors)
    map[tensor.name] = Tensor(tensor.shape, tensor.values);
  return map;
}

namespace {

std::vector<int64_t> shapeOf(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return {shape.begin(), shape.end()};
}

/// NCHW sizes and index arithmetic.
struct Nchw {
  int64_t N, C, H, W;
  explicit Nchw(const std::vector<int64_t> &s) : N(s[0]), C(s[1]), H(s[2]), W(s[3]) {}
  int64_t at(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return ((n * C + c) * H + h) * W + w;
  }
};

/// Per-channel statistics of a batch-norm input, as the training forward uses them.
struct ChannelStats {
  std::vector<double> mean, variance; ///< Biased variance.
};

ChannelStats channelStats(const Tensor &x) {
  Nchw s(x.shape);
  int64_t count = s.N * s.H * s.W;
  ChannelStats stats{std::vector<double>(s.C, 0.0), std::vector<double>(s.C, 0.0)};
  for (int64_t c = 0; c < s.C; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.H * s.W; ++i)
        sum += x.data[(n * s.C + c) * s.H * s.W + i];
    double mean = sum / count, sq = 0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.H * s.W; ++i) {
        double d = x.data[(n * s.C + c) * s.H * s.W + i] - mean;
        sq += d * d;
      }
    stats.mean[c] = mean;
    stats.variance[c] = sq / count;
  }
  return stats;
}

/// A conv's window: strides, padding, dilations (H, W) and groups.
struct ConvWindow {
  int64_t strideH = 1, strideW = 1, padH = 0, padW = 0, dilationH = 1, dilationW = 1, groups = 1;

  template <typename ConvLikeOp> static ConvWindow of(ConvLikeOp op) {
    ConvWindow window;
    window.strideH = op.getStrides()[0];
    window.strideW = op.getStrides()[1];
    window.padH = op.getPadding()[0];
    window.padW = op.getPadding()[1];
    if (std::optional<ArrayRef<int64_t>> dilations = op.getDilations()) {
      window.dilationH = (*dilations)[0];
      window.dilationW = (*dilations)[1];
    }
    window.groups = int64_t(op.getGroups());
    return window;
  }
};

/// Calls visit(inIndex, weightIndex, outIndex) for every multiply-add of a
/// conv of `x` (NCHW) by `w` (K x C/groups x R x S) giving `out` (NCHW).
template <typename Visit>
void forEachConvTap(const Nchw &in, const Nchw &out, ArrayRef<int64_t> wShape,
                    const ConvWindow &window, Visit visit) {
  int64_t R = wShape[2], S = wShape[3], groupIn = wShape[1];
  int64_t groupOut = out.C / window.groups;
  for (int64_t n = 0; n < out.N; ++n)
    for (int64_t k = 0; k < out.C; ++k)
      for (int64_t p = 0; p < out.H; ++p)
        for (int64_t q = 0; q < out.W; ++q)
          for (int64_t cg = 0; cg < groupIn; ++cg) {
            int64_t c = k / groupOut * groupIn + cg;
            for (int64_t r = 0; r < R; ++r)
              for (int64_t s = 0; s < S; ++s) {
                int64_t h = p * window.strideH - window.padH + r * window.dilationH;
                int64_t ww = q * window.strideW - window.padW + s * window.dilationW;
                if (h < 0 || h >= in.H || ww < 0 || ww >= in.W)
                  continue;
                visit(in.at(n, c, h, ww), ((k * groupIn + cg) * R + r) * S + s, out.at(n, k, p, q));
              }
          }
}

/// d(conv)/d(input) and d(conv)/d(weight) for `dy`; either output may be null.
void convGrads(const Tensor &x, const Tensor &w, const Tensor &dy, const ConvWindow &window,
               Tensor *dx, Tensor *dw) {
  if (dx)
    *dx = Tensor(x.shape);
  if (dw)
    *dw = Tensor(w.shape);
  forEachConvTap(Nchw(x.shape), Nchw(dy.shape), w.shape, window,
                 [&](int64_t xi, int64_t wi, int64_t yi) {
                   double g = dy.data[yi];
                   if (dx)
                     dx->data[xi] += g * w.data[wi];
                   if (dw)
                     dw->data[wi] += g * x.data[xi];
                 });
}

/// Inverted dropout's mask applied to `x` (its output, or its output's
/// gradient: the same mask). Elements are numbered in NCHW order.
Tensor applyDropout(const Tensor &x, rn::DropoutOp op, const RunOptions &options) {
  if (options.batchNorm != BatchNormMode::Training)
    return x;
  float rate = float(op.getRate().convertToDouble()); // as the kernels see it
  uint32_t key = resnetc::dropout::key<uint32_t>(options.dropoutSeed, options.dropoutStep,
                                                 uint32_t(op.getStream()));
  uint32_t threshold = resnetc::dropout::threshold(rate);
  double scale = resnetc::dropout::keptScale(rate);
  Tensor y(x.shape);
  for (int64_t i = 0; i < x.size(); ++i)
    y.data[i] =
        resnetc::dropout::bits<uint32_t>(uint32_t(i), key) >= threshold ? x.data[i] * scale : 0.0;
  return y;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// x[n, c, h, w] * s[n, c]: rn.channel_mul, and its input's gradient.
Tensor channelMul(const Tensor &x, const Tensor &s) {
  Tensor y(x.shape);
  int64_t area = x.size() / (x.shape[0] * x.shape[1]);
  for (int64_t i = 0; i < x.size(); ++i)
    y.data[i] = x.data[i] * s.data[i / area];
  return y;
}

/// Per image and channel, the sum over H and W of a * b: rn.spatial_dot.
Tensor spatialDot(const Tensor &a, const Tensor &b) {
  int64_t N = a.shape[0], C = a.shape[1], area = a.size() / (N * C);
  Tensor out({N, C});
  for (int64_t i = 0; i < a.size(); ++i)
    out.data[i / area] += a.data[i] * b.data[i];
  return out;
}

/// Sum over everything but dimension 1: a bias's gradient.
Tensor channelSum(const Tensor &dy) {
  int64_t N = dy.shape[0], C = dy.shape[1], inner = dy.size() / (N * C);
  Tensor sum({C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i)
        sum.data[c] += dy.data[(n * C + c) * inner + i];
  return sum;
}

/// x times s[c] per channel: rn.scale, and its input's gradient.
Tensor scaleChannels(const Tensor &x, const Tensor &s) {
  int64_t N = x.shape[0], C = x.shape[1], inner = x.size() / (N * C);
  Tensor out = x;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i)
        out.data[(n * C + c) * inner + i] *= s.data[c];
  return out;
}

/// The per-channel sum of a times b: a scale's gradient.
Tensor channelDot(const Tensor &a, const Tensor &b) {
  Tensor product = a;
  for (int64_t i = 0; i < a.size(); ++i)
    product.data[i] *= b.data[i];
  return channelSum(product);
}

/// Batch norm's gradients given the statistics it normalised with; with
/// `throughStatistics`, also through the batch mean and variance.
void batchNormGrads(const Tensor &x, const Tensor &dy, const std::vector<double> &gamma,
                    const std::vector<double> &mean, const std::vector<double> &invStd,
                    bool throughStatistics, Tensor &dx, Tensor &dgamma, Tensor &dbeta) {
  Nchw s(x.shape);
  int64_t HW = s.H * s.W;
  double count = double(s.N * HW);
  dx = Tensor(x.shape);
  dgamma = Tensor({s.C});
  dbeta = Tensor({s.C});
  for (int64_t c = 0; c < s.C; ++c) {
    double sumDy = 0, sumDyXhat = 0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t at = (n * s.C + c) * HW + i;
        sumDy += dy.data[at];
        sumDyXhat += dy.data[at] * (x.data[at] - mean[c]) * invStd[c];
      }
    dgamma.data[c] = sumDyXhat;
    dbeta.data[c] = sumDy;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t at = (n * s.C + c) * HW + i;
        double g = dy.data[at];
        if (throughStatistics)
          g -= sumDy / count + (x.data[at] - mean[c]) * invStd[c] * sumDyXhat / count;
        dx.data[at] = gamma[c] * invStd[c] * g;
      }
  }
}

Tensor maxPoolGrad(const Tensor &x, const Tensor &dy, ArrayRef<int64_t> kernel,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> padding) {
  Tensor dx(x.shape);
  Nchw in(x.shape), out(dy.shape);
  for (int64_t n = 0; n < out.N; ++n)
    for (int64_t c = 0; c < out.C; ++c)
      for (int64_t p = 0; p < out.H; ++p)
        for (int64_t q = 0; q < out.W; ++q) {
          double best = -std::numeric_limits<double>::infinity();
          int64_t where = -1;
          for (int64_t r = 0; r < kernel[0]; ++r)
            for (int64_t s = 0; s < kernel[1]; ++s) {
              int64_t h = p * strides[0] - padding[0] + r, w = q * strides[1] - padding[1] + s;
              if (h >= 0 && h < in.H && w >= 0 && w < in.W && x.data[in.at(n, c, h, w)] > best) {
                best = x.data[in.at(n, c, h, w)];
                where = in.at(n, c, h, w);
              }
            }
          if (where >= 0)
            dx.data[where] += dy.data[out.at(n, c, p, q)];
        }
  return dx;
}

Tensor globalAvgPoolGrad(const Tensor &dy, const std::vector<int64_t> &inputShape) {
  Tensor dx(inputShape);
  Nchw s(inputShape);
  int64_t HW = s.H * s.W;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t i = 0; i < HW; ++i)
        dx.data[(n * s.C + c) * HW + i] = dy.data[n * s.C + c] / double(HW);
  return dx;
}

Tensor zeroPadGrad(const Tensor &dy, const std::vector<int64_t> &inputShape, int64_t stride) {
  Tensor dx(inputShape);
  Nchw in(inputShape), out(dy.shape);
  int64_t below = (out.C - in.C) / 2;
  for (int64_t n = 0; n < in.N; ++n)
    for (int64_t c = 0; c < in.C; ++c)
      for (int64_t p = 0; p < out.H; ++p)
        for (int64_t q = 0; q < out.W; ++q)
          dx.data[in.at(n, c, p * stride, q * stride)] = dy.data[out.at(n, c + below, p, q)];
  return dx;
}

/// d(dense)/d(input) and d(dense)/d(weight); either may be null.
void denseGrads(const Tensor &x, const Tensor &w, const Tensor &dy, Tensor *dx, Tensor *dw) {
  int64_t N = x.shape[0], C = x.shape[1], K = w.shape[0];
  if (dx)
    *dx = Tensor(x.shape);
  if (dw)
    *dw = Tensor(w.shape);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      double g = dy.data[n * K + k];
      for (int64_t c = 0; c < C; ++c) {
        if (dx)
          dx->data[n * C + c] += g * w.data[k * C + c];
        if (dw)
          dw->data[k * C + c] += g * x.data[n * C + c];
      }
    }
}

Tensor softmax(const double *row, int64_t K);

/// (softmax - onehot) / N, times `scale`.
Tensor crossEntropyGrad(const Tensor &logits, const Tensor &labels, double scale) {
  int64_t N = logits.shape[0], K = logits.shape[1];
  Tensor dlogits(logits.shape);
  for (int64_t n = 0; n < N; ++n) {
    Tensor p = softmax(&logits.data[n * K], K);
    p.data[int64_t(labels.data[n])] -= 1;
    for (int64_t k = 0; k < K; ++k)
      dlogits.data[n * K + k] = p.data[k] * scale / double(N);
  }
  return dlogits;
}

class Interpreter {
public:
  Interpreter(WeightMap &weights, const RunOptions &options) : weights(weights), options(options) {}

  bool forward(func::FuncOp function, const std::vector<Tensor> &inputs,
               std::vector<Tensor> &outputs, std::string &error);
  bool backward(func::FuncOp function, const std::vector<Tensor> &outputGradients,
                Gradients &gradients, std::string &error);

private:
  bool fail(Operation *op, const std::string &message) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << op->getName() << " at " << op->getLoc() << ": " << message;
    error = text;
    return false;
  }
  const Tensor &get(Value v) { return values.find(v)->second; }
  bool step(Operation *op);
  bool stepBack(Operation *op);
  /// Adds `delta` to the gradient of `v`.
  void accumulate(Value v, const Tensor &delta);

  Tensor conv(rn::Conv2DOp op);
  Tensor batchNorm(rn::BatchNormOp op);
  Tensor maxPool(rn::MaxPool2DOp op);
  Tensor globalAvgPool(rn::GlobalAvgPoolOp op);
  Tensor dense(rn::DenseOp op);
  Tensor zeroPad(rn::ZeroPadShortcutOp op);
  Tensor softmaxCrossEntropy(rn::SoftmaxCrossEntropyOp op);
  void foldBatchNorm(rn::FoldBatchNormOp op);

  void convBack(rn::Conv2DOp op, const Tensor &dy);
  void batchNormBack(rn::BatchNormOp op, const Tensor &dy);
  void maxPoolBack(rn::MaxPool2DOp op, const Tensor &dy);
  void denseBack(rn::DenseOp op, const Tensor &dy);

  WeightMap &weights;
  const RunOptions &options;
  llvm::DenseMap<Value, Tensor> values;
  llvm::DenseMap<Value, Tensor> grads;
  Gradients *out = nullptr; ///< Where backward puts weight gradients.
  std::string error;
};

bool Interpreter::forward(func::FuncOp function, const std::vector<Tensor> &inputs,
                          std::vector<Tensor> &outputs, std::string &errorOut) {
  if (function.getNumArguments() != inputs.size()) {
    errorOut = "expected " + std::to_string(function.getNumArguments()) + " inputs, got " +
               std::to_string(inputs.size());
    return false;
  }
  for (auto [arg, input] : llvm::zip(function.getArguments(), inputs)) {
    if (shapeOf(arg) != input.shape) {
      errorOut = "input " + std::to_string(arg.getArgNumber()) + " has the wrong shape";
      return false;
    }
    values[arg] = input;
  }
  for (Operation &op : function.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      outputs.clear();
      for (Value v : ret.getOperands())
        outputs.push_back(get(v));
      return true;
    }
    if (!step(&op)) {
      errorOut = error;
      return false;
    }
  }
  errorOut = "the function has no return";
  return false;
}

bool Interpreter::step(Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](rn::WeightOp w) {
        auto it = weights.find(w.getName());
        if (it == weights.end())
          return fail(op, "no weight named '" + w.getName().str() + "'");
        if (it->second.shape != shapeOf(w.getResult()))
          return fail(op, "weight '" + w.getName().str() + "' has the wrong shape");
        values[w.getResult()] = it->second;
        return true;
      })
      .Case([&](rn::Conv2DOp c) { return values[c.getResult()] = conv(c), true; })
      .Case([&](rn::BatchNormOp b) { return values[b.getResult()] = batchNorm(b), true; })
      .Case([&](rn::ReluOp r) {
        Tensor out = get(r.getInput());
        for (double &v : out.data)
          v = v > 0 ? v : 0.0;
        values[r.getResult()] = std::move(out);
        return true;
      })
      .Case([&](rn::AddOp a) {
        Tensor out = get(a.getLhs());
        const Tensor &rhs = get(a.getRhs());
        for (int64_t i = 0; i < out.size(); ++i)
          out.data[i] += rhs.data[i];
        values[a.getResult()] = std::move(out);
        return true;
      })
      .Case([&](rn::FusedEltwiseOp f) {
        // The form rn-fuse-training-epilogues makes: relu?(input + addend?).
        if (f.getGamma())
          return fail(op, "batch norm inside rn.fused_eltwise is not interpreted");
        Tensor out = get(f.getInput());
        if (f.getAddend()) {
          const Tensor &addend = get(f.getAddend());
          for (int64_t i = 0; i < out.size(); ++i)
            out.data[i] += addend.data[i];
        }
        if (f.getRelu())
          for (double &v : out.data)
            v = v > 0 ? v : 0.0;
        values[f.getResult()] = std::move(out);
        return true;
      })
      .Case([&](rn::ScaleOp s) {
        values[s.getOutput()] = scaleChannels(get(s.getInput()), get(s.getScale()));
        return true;
      })
      .Case([&](rn::DropoutOp d) {
        values[d.getResult()] = applyDropout(get(d.getInput()), d, options);
        return true;
      })
      .Case([&](rn::SigmoidOp g) {
        Tensor y = get(g.getInput());
        for (double &v : y.data)
          v = sigmoid(v);
        values[g.getResult()] = std::move(y);
        return true;
      })
      .Case([&](rn::SigmoidGradOp g) {
        Tensor dx = get(g.getOutputGrad());
        const Tensor &y = get(g.getOutput());
        for (int64_t i = 0; i < dx.size(); ++i)
          dx.data[i] *= y.data[i] * (1.0 - y.data[i]);
        values[g.getInputGrad()] = std::move(dx);
        return true;
      })
      .Case([&](rn::ChannelMulOp m) {
        values[m.getResult()] = channelMul(get(m.getInput()), get(m.getScale()));
        return true;
      })
      .Case([&](rn::SpatialDotOp d) {
        values[d.getOutput()] = spatialDot(get(d.getLhs()), get(d.getRhs()));
        return true;
      })
      .Case([&](rn::MaxPool2DOp p) { return values[p.getResult()] = maxPool(p), true; })
      .Case([&](rn::GlobalAvgPoolOp p) { return values[p.getResult()] = globalAvgPool(p), true; })
      .Case([&](rn::DenseOp d) { return values[d.getResult()] = dense(d), true; })
      .Case([&](rn::ZeroPadShortcutOp z) { return values[z.getResult()] = zeroPad(z), true; })
      .Case([&](rn::FoldBatchNormOp f) { return foldBatchNorm(f), true; })
      .Case([&](rn::SoftmaxCrossEntropyOp s) {
        int64_t classes = shapeOf(s.getLogits())[1];
        for (double label : get(s.getLabels()).data)
          if (!(label >= 0 && label < classes) || label != std::floor(label))
            return fail(op, "label " + std::to_string(label) + " is outside [0, " +
                                std::to_string(classes) + ")");
        return values[s.getResult()] = softmaxCrossEntropy(s), true;
      })
      .Case([&](rn::BatchNormTrainOp b) {
        const Tensor &x = get(b.getInput());
        ChannelStats stats = channelStats(x);
        double eps = b.getEpsilon().convertToDouble();
        Tensor mean({int64_t(stats.mean.size())}, stats.mean), invStd(mean.shape);
        for (size_t c = 0; c < stats.variance.size(); ++c)
          invStd.data[c] = 1.0 / std::sqrt(stats.variance[c] + eps);
        const Tensor &gamma = get(b.getGamma()), &beta = get(b.getBeta());
        Tensor y(x.shape);
        Nchw s(x.shape);
        const Tensor *residual = b.getResidual() ? &get(b.getResidual()) : nullptr;
        for (int64_t i = 0; i < y.size(); ++i) {
          int64_t c = (i / (s.H * s.W)) % s.C;
          y.data[i] = (x.data[i] - mean.data[c]) * invStd.data[c] * gamma.data[c] + beta.data[c];
          if (residual)
            y.data[i] += residual->data[i];
          if (b.getRelu())
            y.data[i] = std::max(y.data[i], 0.0);
        }
        values[b.getOutput()] = std::move(y);
        values[b.getMean()] = std::move(mean);
        values[b.getInvStd()] = std::move(invStd);
        return true;
      })
      .Case([&](rn::BatchNormTrainGradOp g) {
        Tensor dx, dgamma, dbeta, dy = get(g.getOutputGrad());
        if (g.getReluOutput()) {
          const Tensor &y = get(g.getReluOutput());
          for (int64_t i = 0; i < dy.size(); ++i)
            dy.data[i] = y.data[i] > 0 ? dy.data[i] : 0.0;
        }
        batchNormGrads(get(g.getInput()), dy, get(g.getGamma()).data, get(g.getMean()).data,
                       get(g.getInvStd()).data, true, dx, dgamma, dbeta);
        values[g.getInputGrad()] = std::move(dx);
        values[g.getGammaGrad()] = std::move(dgamma);
        values[g.getBetaGrad()] = std::move(dbeta);
        return true;
      })
      .Case([&](rn::ReluGradOp g) {
        Tensor dx = get(g.getOutputGrad());
        const Tensor &y = get(g.getOutput());
        for (int64_t i = 0; i < dx.size(); ++i)
          dx.data[i] = y.data[i] > 0 ? dx.data[i] : 0.0;
        values[g.getInputGrad()] = std::move(dx);
        return true;
      })
      .Case([&](rn::Conv2DGradInputOp g) {
        Tensor dx, x(shapeOf(g.getInputGrad()));
        convGrads(x, get(g.getWeight()), get(g.getOutputGrad()), ConvWindow::of(g), &dx, nullptr);
        if (Value addend = g.getAddend()) {
          const Tensor &a = get(addend);
          for (int64_t i = 0; i < dx.size(); ++i)
            dx.data[i] += a.data[i];
        }
        if (Value reluOutput = g.getReluOutput()) {
          const Tensor &y = get(reluOutput);
          for (int64_t i = 0; i < dx.size(); ++i)
            dx.data[i] = y.data[i] > 0 ? dx.data[i] : 0.0;
        }
        values[g.getInputGrad()] = std::move(dx);
        return true;
      })
      .Case([&](rn::Conv2DGradWeightOp g) {
        Tensor dw, w(shapeOf(g.getWeightGrad()));
        convGrads(get(g.getInput()), w, get(g.getOutputGrad()), ConvWindow::of(g), nullptr, &dw);
        values[g.getWeightGrad()] = std::move(dw);
        return true;
      })
      .Case([&](rn::ChannelSumOp g) {
        values[g.getOutput()] = channelSum(get(g.getInput()));
        return true;
      })
      .Case([&](rn::ChannelDotOp g) {
        values[g.getOutput()] = channelDot(get(g.getLhs()), get(g.getRhs()));
        return true;
      })
      .Case([&](rn::DenseGradInputOp g) {
        Tensor dx, x(shapeOf(g.getInputGrad()));
        denseGrads(x, get(g.getWeight()), get(g.getOutputGrad()), &dx, nullptr);
        values[g.getInputGrad()] = std::move(dx);
        return true;
      })
      .Case([&](rn::DenseGradWeightOp g) {
        Tensor dw, w(shapeOf(g.getWeightGrad()));
        denseGrads(get(g.getInput()), w, get(g.getOutputGrad()), nullptr, &dw);
        values[g.getWeightGrad()] = std::move(dw);
        return true;
      })
      .Case([&](rn::MaxPool2DGradOp g) {
        values[g.getInputGrad()] = maxPoolGrad(get(g.getInput()), get(g.getOutputGrad()),
                                               g.getKernel(), g.getStrides(), g.getPadding());
        return true;
      })
      .Case([&](rn::GlobalAvgPoolGradOp g) {
        values[g.getInputGrad()] =
            globalAvgPoolGrad(get(g.getOutputGrad()), shapeOf(g.getInputGrad()));
        return true;
      })
      .Case([&](rn::ZeroPadShortcutGradOp g) {
        values[g.getInputGrad()] =
            zeroPadGrad(get(g.getOutputGrad()), shapeOf(g.getInputGrad()), g.getStride());
        return true;
      })
      .Case([&](rn::SoftmaxCrossEntropyGradOp g) {
        values[g.getLogitsGrad()] = crossEntropyGrad(get(g.getLogits()), get(g.getLabels()), 1.0);
        return true;
      })
      .Case([&](rn::ShortcutOp) {
        return fail(op, "shortcuts must be expanded first (rn-expand-shortcuts)");
      })
      .Default(
          [&](Operation *) { return fail(op, "the reference executor does not know this op"); });
}

Tensor Interpreter::conv(rn::Conv2DOp op) {
  const Tensor &x = get(op.getInput());
  const Tensor &w = get(op.getWeight());
  Tensor y(shapeOf(op.getResult()));
  Nchw out(y.shape);
  if (op.getBias()) {
    const Tensor &b = get(op.getBias());
    for (int64_t i = 0; i < y.size(); ++i)
      y.data[i] = b.data[i / (out.H * out.W) % out.C];
  }
  forEachConvTap(
      Nchw(x.shape), out, w.shape, ConvWindow::of(op),
      [&](int64_t xi, int64_t wi, int64_t yi) { y.data[yi] += x.data[xi] * w.data[wi]; });
  return y;
}

Tensor Interpreter::batchNorm(rn::BatchNormOp op) {
  const Tensor &x = get(op.getInput());
  const Tensor &gamma = get(op.getGamma());
  const Tensor &beta = get(op.getBeta());
  double eps = op.getEpsilon().convertToDouble();
  Nchw s(x.shape);
  int64_t HW = s.H * s.W, count = s.N * HW;
  bool training = options.batchNorm == BatchNormMode::Training;
  ChannelStats stats;
  if (training) {
    stats = channelStats(x);
    double momentum = options.momentum.value_or(op.getMomentum().convertToDouble());
    auto update = [&](Value stat, const std::vector<double> &batch, bool unbiased) {
      auto weight = stat.getDefiningOp<rn::WeightOp>();
      if (!weight)
        return;
      std::vector<double> &running = weights[weight.getName()].data;
      for (int64_t c = 0; c < s.C; ++c) {
        double value = unbiased && count > 1 ? batch[c] * count / (count - 1) : batch[c];
        running[c] = (1 - momentum) * running[c] + momentum * value;
      }
    };
    update(op.getMean(), stats.mean, false);
    update(op.getVariance(), stats.variance, true);
  } else {
    stats.mean = get(op.getMean()).data;
    stats.variance = get(op.getVariance()).data;
  }
  Tensor y(x.shape);
  for (int64_t c = 0; c < s.C; ++c) {
    double scale = gamma.data[c] / std::sqrt(stats.variance[c] + eps);
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t at = (n * s.C + c) * HW + i;
        y.data[at] = (x.data[at] - stats.mean[c]) * scale + beta.data[c];
      }
  }
  return y;
}

Tensor Interpreter::maxPool(rn::MaxPool2DOp op) {
  const Tensor &x = get(op.getInput());
  Tensor y(shapeOf(op.getResult()));
  Nchw in(x.shape), out(y.shape);
  int64_t R = op.getKernel()[0], S = op.getKernel()[1];
  for (int64_t n = 0; n < out.N; ++n)
    for (int64_t c = 0; c < out.C; ++c)
      for (int64_t p = 0; p < out.H; ++p)
        for (int64_t q = 0; q < out.W; ++q) {
          double best = -std::numeric_limits<double>::infinity();
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              int64_t h = p * op.getStrides()[0] - op.getPadding()[0] + r;
              int64_t w = q * op.getStrides()[1] - op.getPadding()[1] + s;
              if (h >= 0 && h < in.H && w >= 0 && w < in.W)
                best = std::max(best, x.data[in.at(n, c, h, w)]);
            }
          y.data[out.at(n, c, p, q)] = best;
        }
  return y;
}

Tensor Interpreter::globalAvgPool(rn::GlobalAvgPoolOp op) {
  const Tensor &x = get(op.getInput());
  Nchw s(x.shape);
  int64_t HW = s.H * s.W;
  Tensor y({s.N, s.C});
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.C; ++c) {
      double sum = 0;
      for (int64_t i = 0; i < HW; ++i)
        sum += x.data[(n * s.C + c) * HW + i];
      y.data[n * s.C + c] = sum / double(HW);
    }
  return y;
}

Tensor Interpreter::dense(rn::DenseOp op) {
  const Tensor &x = get(op.getInput());
  const Tensor &w = get(op.getWeight());
  const Tensor *b = op.getBias() ? &get(op.getBias()) : nullptr;
  int64_t N = x.shape[0], C = x.shape[1], K = w.shape[0];
  Tensor y({N, K});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      double sum = b ? b->data[k] : 0.0;
      for (int64_t c = 0; c < C; ++c)
        sum += x.data[n * C + c] * w.data[k * C + c];
      y.data[n * K + k] = sum;
    }
  return y;
}

Tensor Interpreter::zeroPad(rn::ZeroPadShortcutOp op) {
  const Tensor &x = get(op.getInput());
  Tensor y(shapeOf(op.getResult()));
  Nchw in(x.shape), out(y.shape);
  int64_t stride = op.getStride();
  int64_t below = (out.C - in.C) / 2; // zero channels before the old ones
  for (int64_t n = 0; n < in.N; ++n)
    for (int64_t c = 0; c < in.C; ++c)
      for (int64_t p = 0; p < out.H; ++p)
        for (int64_t q = 0; q < out.W; ++q)
          y.data[out.at(n, c + below, p, q)] = x.data[in.at(n, c, p * stride, q * stride)];
  return y;
}

void Interpreter::foldBatchNorm(rn::FoldBatchNormOp op) {
  Tensor w = get(op.getWeight());
  const Tensor &gamma = get(op.getGamma());
  const Tensor &beta = get(op.getBeta());
  const Tensor &mean = get(op.getMean());
  const Tensor &variance = get(op.getVariance());
  double eps = op.getEpsilon().convertToDouble();
  int64_t K = w.shape[0], perOutput = w.size() / K;
  Tensor bias({K});
  for (int64_t k = 0; k < K; ++k) {
    double scale = gamma.data[k] / std::sqrt(variance.data[k] + eps);
    for (int64_t i = 0; i < perOutput; ++i)
      w.data[k * perOutput + i] *= scale;
    double oldBias = op.getBias() ? get(op.getBias()).data[k] : 0.0;
    bias.data[k] = beta.data[k] + (oldBias - mean.data[k]) * scale;
  }
  values[op.getFoldedWeight()] = std::move(w);
  values[op.getFoldedBias()] = std::move(bias);
}

/// Softmax of one row, stable for large logits.
Tensor softmax(const double *row, int64_t K) {
  double top = *std::max_element(row, row + K), sum = 0;
  Tensor p({K});
  for (int64_t k = 0; k < K; ++k)
    sum += p.data[k] = std::exp(row[k] - top);
  for (double &v : p.data)
    v /= sum;
  return p;
}

Tensor Interpreter::softmaxCrossEntropy(rn::SoftmaxCrossEntropyOp op) {
  const Tensor &logits = get(op.getLogits());
  const Tensor &labels = get(op.getLabels());
  int64_t N = logits.shape[0], K = logits.shape[1];
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    Tensor p = softmax(&logits.data[n * K], K);
    total -= std::log(p.data[int64_t(labels.data[n])]);
  }
  return Tensor({}, std::vector<double>{total / double(N)});
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

void Interpreter::accumulate(Value v, const Tensor &delta) {
  auto [it, inserted] = grads.try_emplace(v, delta);
  if (!inserted)
    for (int64_t i = 0; i < delta.size(); ++i)
      it->second.data[i] += delta.data[i];
}

bool Interpreter::backward(func::FuncOp function, const std::vector<Tensor> &outputGradients,
                           Gradients &gradients, std::string &errorOut) {
  Block &body = function.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (outputGradients.size() != ret.getNumOperands()) {
    errorOut = "expected one gradient per result";
    return false;
  }
  out = &gradients;
  gradients.weights.clear();
  for (auto [value, gradient] : llvm::zip(ret.getOperands(), outputGradients)) {
    if (gradient.shape != shapeOf(value)) {
      errorOut = "an output gradient has the wrong shape";
      return false;
    }
    accumulate(value, gradient);
  }
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (!stepBack(&op)) {
      errorOut = error;
      return false;
    }
  gradients.inputs.clear();
  for (BlockArgument arg : function.getArguments()) {
    auto it = grads.find(arg);
    gradients.inputs.push_back(it != grads.end() ? it->second : Tensor(shapeOf(arg)));
  }
  return true;
}

bool Interpreter::stepBack(Operation *op) {
  if (op->getNumResults() == 0)
    return true;
  auto it = grads.find(op->getResult(0));
  if (it == grads.end())
    return true; // nothing downstream depends on it
  Tensor dy = it->second;
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](rn::WeightOp w) {
        if (w.getState())
          return true; // running statistics are not trained
        Tensor &total = out->weights[w.getName()];
        if (total.data.empty())
          total = Tensor(dy.shape);
        for (int64_t i = 0; i < dy.size(); ++i)
          total.data[i] += dy.data[i];
        return true;
      })
      .Case([&](rn::Conv2DOp c) { return convBack(c, dy), true; })
      .Case([&](rn::BatchNormOp b) { return batchNormBack(b, dy), true; })
      .Case([&](rn::ReluOp r) {
        const Tensor &x = get(r.getInput());
        for (int64_t i = 0; i < dy.size(); ++i)
          dy.data[i] = x.data[i] > 0 ? dy.data[i] : 0.0;
        accumulate(r.getInput(), dy);
        return true;
      })
      .Case([&](rn::AddOp a) {
        accumulate(a.getLhs(), dy);
        accumulate(a.getRhs(), dy);
        return true;
      })
      .Case([&](rn::DropoutOp d) {
        accumulate(d.getInput(), applyDropout(dy, d, options));
        return true;
      })
      .Case([&](rn::SigmoidOp g) {
        const Tensor &y = get(g.getResult());
        for (int64_t i = 0; i < dy.size(); ++i)
          dy.data[i] *= y.data[i] * (1.0 - y.data[i]);
        accumulate(g.getInput(), dy);
        return true;
      })
      .Case([&](rn::ChannelMulOp m) {
        accumulate(m.getInput(), channelMul(dy, get(m.getScale())));
        accumulate(m.getScale(), spatialDot(dy, get(m.getInput())));
        return true;
      })
      .Case([&](rn::ScaleOp s) {
        accumulate(s.getInput(), scaleChannels(dy, get(s.getScale())));
        accumulate(s.getScale(), channelDot(dy, get(s.getInput())));
        return true;
      })
      .Case([&](rn::MaxPool2DOp p) { return maxPoolBack(p, dy), true; })
      .Case([&](rn::GlobalAvgPoolOp p) {
        accumulate(p.getInput(), globalAvgPoolGrad(dy, shapeOf(p.getInput())));
        return true;
      })
      .Case([&](rn::DenseOp d) { return denseBack(d, dy), true; })
      .Case([&](rn::ZeroPadShortcutOp z) {
        accumulate(z.getInput(), zeroPadGrad(dy, shapeOf(z.getInput()), z.getStride()));
        return true;
      })
      .Case([&](rn::SoftmaxCrossEntropyOp s) {
        accumulate(s.getLogits(),
                   crossEntropyGrad(get(s.getLogits()), get(s.getLabels()), dy.data[0]));
        return true;
      })
      .Default([&](Operation *) {
        return fail(op, "the reference executor cannot differentiate this op");
      });
}

void Interpreter::convBack(rn::Conv2DOp op, const Tensor &dy) {
  Tensor dx, dw;
  convGrads(get(op.getInput()), get(op.getWeight()), dy, ConvWindow::of(op), &dx, &dw);
  accumulate(op.getInput(), dx);
  accumulate(op.getWeight(), dw);
  if (op.getBias())
    accumulate(op.getBias(), channelSum(dy));
}

void Interpreter::batchNormBack(rn::BatchNormOp op, const Tensor &dy) {
  const Tensor &x = get(op.getInput());
  double eps = op.getEpsilon().convertToDouble();
  bool training = options.batchNorm == BatchNormMode::Training;
  ChannelStats stats =
      training ? channelStats(x) : ChannelStats{get(op.getMean()).data, get(op.getVariance()).data};
  std::vector<double> invStd;
  for (double v : stats.variance)
    invStd.push_back(1.0 / std::sqrt(v + eps));
  Tensor dx, dgamma, dbeta;
  batchNormGrads(x, dy, get(op.getGamma()).data, stats.mean, invStd, training, dx, dgamma, dbeta);
  accumulate(op.getInput(), dx);
  accumulate(op.getGamma(), dgamma);
  accumulate(op.getBeta(), dbeta);
}

void Interpreter::maxPoolBack(rn::MaxPool2DOp op, const Tensor &dy) {
  accumulate(op.getInput(),
             maxPoolGrad(get(op.getInput()), dy, op.getKernel(), op.getStrides(), op.getPadding()));
}

void Interpreter::denseBack(rn::DenseOp op, const Tensor &dy) {
  Tensor dx, dw;
  denseGrads(get(op.getInput()), get(op.getWeight()), dy, &dx, &dw);
  accumulate(op.getInput(), dx);
  accumulate(op.getWeight(), dw);
  if (op.getBias())
    accumulate(op.getBias(), channelSum(dy));
}

} // namespace

bool resnetc::reference::run(func::FuncOp function, const std::vector<Tensor> &inputs,
                             WeightMap &weights, const RunOptions &options,
                             std::vector<Tensor> &outputs, std::string &error) {
  return Interpreter(weights, options).forward(function, inputs, outputs, error);
}

bool resnetc::reference::runWithGradients(func::FuncOp function, const std::vector<Tensor> &inputs,
                                          WeightMap &weights, const RunOptions &options,
                                          const std::vector<Tensor> &outputGradients,
                                          std::vector<Tensor> &outputs, Gradients &gradients,
                                          std::string &error) {
  Interpreter interpreter(weights, options);
  return interpreter.forward(function, inputs, outputs, error) &&
         interpreter.backward(function, outputGradients, gradients, error);
}
