//===- ReferenceExecutor.cpp - The numerics oracle ------------------------===//

#include "resnetc/Reference/ReferenceExecutor.h"

#include "resnetc/Dialect/Rn/RnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace resnetc;
using namespace resnetc::reference;

Tensor::Tensor(std::vector<int64_t> shape, float fill) : shape(std::move(shape)) {
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

class Interpreter {
public:
  Interpreter(WeightMap &weights, const RunOptions &options) : weights(weights), options(options) {}

  bool run(func::FuncOp function, const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs,
           std::string &error);

private:
  bool fail(Operation *op, const std::string &message) {
    std::string name;
    llvm::raw_string_ostream os(name);
    os << op->getName() << " at " << op->getLoc() << ": " << message;
    error = name;
    return false;
  }
  const Tensor &get(Value v) { return values.find(v)->second; }
  bool step(Operation *op);

  Tensor conv(rn::Conv2DOp op);
  Tensor batchNorm(rn::BatchNormOp op);
  Tensor maxPool(rn::MaxPool2DOp op);
  Tensor globalAvgPool(rn::GlobalAvgPoolOp op);
  Tensor dense(rn::DenseOp op);
  Tensor zeroPad(rn::ZeroPadShortcutOp op);
  Tensor softmaxCrossEntropy(rn::SoftmaxCrossEntropyOp op);
  void foldBatchNorm(rn::FoldBatchNormOp op);

  WeightMap &weights;
  const RunOptions &options;
  llvm::DenseMap<Value, Tensor> values;
  std::string error;
};

bool Interpreter::run(func::FuncOp function, const std::vector<Tensor> &inputs,
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
        for (float &v : out.data)
          v = v > 0 ? v : 0.0f;
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
      .Case([&](rn::MaxPool2DOp p) { return values[p.getResult()] = maxPool(p), true; })
      .Case([&](rn::GlobalAvgPoolOp p) { return values[p.getResult()] = globalAvgPool(p), true; })
      .Case([&](rn::DenseOp d) { return values[d.getResult()] = dense(d), true; })
      .Case([&](rn::ZeroPadShortcutOp z) { return values[z.getResult()] = zeroPad(z), true; })
      .Case([&](rn::FoldBatchNormOp f) { return foldBatchNorm(f), true; })
      .Case([&](rn::SoftmaxCrossEntropyOp s) {
        int64_t classes = shapeOf(s.getLogits())[1];
        for (float label : get(s.getLabels()).data)
          if (!(label >= 0 && label < classes))
            return fail(op, "label " + std::to_string(label) + " is outside [0, " +
                                std::to_string(classes) + ")");
        return values[s.getResult()] = softmaxCrossEntropy(s), true;
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
  const Tensor *b = op.getBias() ? &get(op.getBias()) : nullptr;
  Tensor y(shapeOf(op.getResult()));
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t K = w.shape[0], R = w.shape[2], S = w.shape[3];
  int64_t P = y.shape[2], Q = y.shape[3];
  int64_t sh = op.getStrides()[0], sw = op.getStrides()[1];
  int64_t ph = op.getPadding()[0], pw = op.getPadding()[1];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          double sum = b ? b->data[k] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t s = 0; s < S; ++s) {
                int64_t h = p * sh - ph + r, ww = q * sw - pw + s;
                if (h < 0 || h >= H || ww < 0 || ww >= W)
                  continue;
                sum += double(x.data[((n * C + c) * H + h) * W + ww]) *
                       double(w.data[((k * C + c) * R + r) * S + s]);
              }
          y.data[((n * K + k) * P + p) * Q + q] = float(sum);
        }
  return y;
}

Tensor Interpreter::batchNorm(rn::BatchNormOp op) {
  const Tensor &x = get(op.getInput());
  const Tensor &gamma = get(op.getGamma());
  const Tensor &beta = get(op.getBeta());
  double eps = op.getEpsilon().convertToDouble();
  int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3];
  Tensor y(x.shape);
  for (int64_t c = 0; c < C; ++c) {
    double mean, variance;
    if (options.batchNorm == BatchNormMode::Training) {
      double sum = 0, sumSq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < HW; ++i)
          sum += x.data[(n * C + c) * HW + i];
      int64_t count = N * HW;
      mean = sum / count;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < HW; ++i) {
          double d = x.data[(n * C + c) * HW + i] - mean;
          sumSq += d * d;
        }
      variance = sumSq / count; // biased: what normalises the batch
      double momentum = options.momentum.value_or(op.getMomentum().convertToDouble());
      double unbiased = count > 1 ? sumSq / (count - 1) : variance;
      auto update = [&](Value stat, double batchValue) {
        auto name = stat.getDefiningOp<rn::WeightOp>();
        if (!name)
          return;
        float &running = weights[name.getName()].data[c];
        running = float((1 - momentum) * running + momentum * batchValue);
      };
      update(op.getMean(), mean);
      update(op.getVariance(), unbiased);
    } else {
      mean = get(op.getMean()).data[c];
      variance = get(op.getVariance()).data[c];
    }
    double scale = gamma.data[c] / std::sqrt(variance + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t at = (n * C + c) * HW + i;
        y.data[at] = float((x.data[at] - mean) * scale + beta.data[c]);
      }
  }
  return y;
}

Tensor Interpreter::maxPool(rn::MaxPool2DOp op) {
  const Tensor &x = get(op.getInput());
  Tensor y(shapeOf(op.getResult()));
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t P = y.shape[2], Q = y.shape[3];
  int64_t R = op.getKernel()[0], S = op.getKernel()[1];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              int64_t h = p * op.getStrides()[0] - op.getPadding()[0] + r;
              int64_t w = q * op.getStrides()[1] - op.getPadding()[1] + s;
              if (h >= 0 && h < H && w >= 0 && w < W)
                best = std::max(best, x.data[((n * C + c) * H + h) * W + w]);
            }
          y.data[((n * C + c) * P + p) * Q + q] = best;
        }
  return y;
}

Tensor Interpreter::globalAvgPool(rn::GlobalAvgPoolOp op) {
  const Tensor &x = get(op.getInput());
  int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3];
  Tensor y({N, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0;
      for (int64_t i = 0; i < HW; ++i)
        sum += x.data[(n * C + c) * HW + i];
      y.data[n * C + c] = float(sum / HW);
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
        sum += double(x.data[n * C + c]) * double(w.data[k * C + c]);
      y.data[n * K + k] = float(sum);
    }
  return y;
}

Tensor Interpreter::zeroPad(rn::ZeroPadShortcutOp op) {
  const Tensor &x = get(op.getInput());
  Tensor y(shapeOf(op.getResult()));
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t K = y.shape[1], P = y.shape[2], Q = y.shape[3], stride = op.getStride();
  int64_t below = (K - C) / 2; // zero channels before the old ones
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q)
          y.data[((n * K + c + below) * P + p) * Q + q] =
              x.data[((n * C + c) * H + p * stride) * W + q * stride];
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
    double scale = gamma.data[k] / std::sqrt(double(variance.data[k]) + eps);
    for (int64_t i = 0; i < perOutput; ++i)
      w.data[k * perOutput + i] = float(w.data[k * perOutput + i] * scale);
    double oldBias = op.getBias() ? get(op.getBias()).data[k] : 0.0;
    bias.data[k] = float(beta.data[k] + (oldBias - mean.data[k]) * scale);
  }
  values[op.getFoldedWeight()] = std::move(w);
  values[op.getFoldedBias()] = std::move(bias);
}

Tensor Interpreter::softmaxCrossEntropy(rn::SoftmaxCrossEntropyOp op) {
  const Tensor &logits = get(op.getLogits());
  const Tensor &labels = get(op.getLabels());
  int64_t N = logits.shape[0], K = logits.shape[1];
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float *row = &logits.data[n * K];
    double maxLogit = *std::max_element(row, row + K);
    double sum = 0;
    for (int64_t k = 0; k < K; ++k)
      sum += std::exp(row[k] - maxLogit);
    int64_t label = int64_t(labels.data[n]);
    total += std::log(sum) + maxLogit - row[label];
  }
  return Tensor({}, std::vector<float>{float(total / N)});
}

} // namespace

bool resnetc::reference::run(func::FuncOp function, const std::vector<Tensor> &inputs,
                             WeightMap &weights, const RunOptions &options,
                             std::vector<Tensor> &outputs, std::string &error) {
  return Interpreter(weights, options).run(function, inputs, outputs, error);
}
