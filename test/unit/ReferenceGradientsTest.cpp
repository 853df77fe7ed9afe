//===- ReferenceGradientsTest.cpp - Backward pass vs finite differences ---===//
//
// Every op's gradient, and a two-block residual network's, against central
// finite differences in double precision. The objective is a random linear
// function of the outputs, L = sum(R * y), so every output element matters.
// Tolerance: |analytic - numeric| <= 1e-6 * max(1, |numeric|), with steps of
// 1e-6 (the truncation error is ~1e-12, the rounding error ~1e-10).
//
//===----------------------------------------------------------------------===//

#include "ModelTestSupport.h"

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/Random.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

Tensor random(std::vector<int64_t> shape, Random &rng, double scale = 1.0) {
  Tensor t(std::move(shape));
  for (double &v : t.data)
    v = scale * rng.normal();
  return t;
}

class GradientCheck {
public:
  GradientCheck(mlir::func::FuncOp function, std::vector<Tensor> inputs, WeightMap weights,
                BatchNormMode mode)
      : function(function), inputs(std::move(inputs)), weights(std::move(weights)) {
    options.batchNorm = mode;
  }

  /// Inputs whose gradient is not checked (labels).
  void skipInput(size_t index) { skipped.push_back(index); }

  void run() {
    std::vector<Tensor> outputs;
    std::string error;
    ASSERT_TRUE(reference::run(function, inputs, weights, options, outputs, error)) << error;
    Random rng(42);
    for (const Tensor &out : outputs)
      seeds.push_back(random(out.shape, rng));
    Gradients gradients;
    ASSERT_TRUE(
        runWithGradients(function, inputs, weights, options, seeds, outputs, gradients, error))
        << error;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!llvm::is_contained(skipped, i))
        compare("input " + std::to_string(i), inputs[i], gradients.inputs[i]);
    for (auto &entry : weights) {
      std::string name = entry.getKey().str();
      if (isState(name))
        continue;
      auto it = gradients.weights.find(name);
      ASSERT_NE(it, gradients.weights.end()) << "no gradient for " << name;
      compare(name, entry.getValue(), it->second);
    }
    EXPECT_GT(checked, 0);
  }

private:
  bool isState(llvm::StringRef name) {
    bool state = false;
    function.walk([&](rn::WeightOp op) {
      if (op.getName() == name && op.getState())
        state = true;
    });
    return state;
  }

  double objective() {
    std::vector<Tensor> outputs;
    std::string error;
    EXPECT_TRUE(reference::run(function, inputs, weights, options, outputs, error)) << error;
    double total = 0;
    for (size_t o = 0; o < outputs.size(); ++o)
      for (int64_t i = 0; i < outputs[o].size(); ++i)
        total += seeds[o].data[i] * outputs[o].data[i];
    return total;
  }

  /// Central differences for up to 64 elements of `tensor` (spread over it).
  void compare(const std::string &what, Tensor &tensor, const Tensor &analytic) {
    ASSERT_EQ(analytic.shape, tensor.shape) << what;
    int64_t step = std::max<int64_t>(1, tensor.size() / 64);
    for (int64_t i = 0; i < tensor.size(); i += step) {
      double saved = tensor.data[i];
      double h = 1e-6 * std::max(1.0, std::fabs(saved));
      tensor.data[i] = saved + h;
      double plus = objective();
      tensor.data[i] = saved - h;
      double minus = objective();
      tensor.data[i] = saved;
      double numeric = (plus - minus) / (2 * h);
      EXPECT_NEAR(analytic.data[i], numeric, 1e-6 * std::max(1.0, std::fabs(numeric)))
          << what << "[" << i << "]";
      ++checked;
    }
  }

  mlir::func::FuncOp function;
  std::vector<Tensor> inputs;
  WeightMap weights;
  RunOptions options;
  std::vector<Tensor> seeds;
  std::vector<size_t> skipped;
  int checked = 0;
};

/// Parses `text`, whose first function is checked with random inputs.
void checkFunction(const std::string &text, WeightMap weights,
                   BatchNormMode mode = BatchNormMode::Inference, double inputScale = 1.0) {
  auto context = makeContext();
  auto module = parseMlir(*context, text);
  ASSERT_TRUE(module);
  auto function = *module->getOps<mlir::func::FuncOp>().begin();
  Random rng(7);
  std::vector<Tensor> inputs;
  for (mlir::Type type : function.getArgumentTypes()) {
    auto shape = mlir::cast<mlir::RankedTensorType>(type).getShape();
    inputs.push_back(random({shape.begin(), shape.end()}, rng, inputScale));
  }
  GradientCheck check(function, std::move(inputs), std::move(weights), mode);
  check.run();
}

WeightMap randomWeights(std::initializer_list<std::pair<const char *, std::vector<int64_t>>> specs,
                        double scale = 0.5) {
  Random rng(11);
  WeightMap map;
  for (auto &[name, shape] : specs)
    map[name] = random(shape, rng, scale);
  return map;
}

} // namespace

TEST(ReferenceGradients, ConvWithBiasStrideAndPadding) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x3x6x6xf32>) -> tensor<2x4x3x3xf32> {
      %w = rn.weight "w" {init = #rn<init he_normal>} : tensor<4x3x3x3xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<4xf32>
      %y = rn.conv2d %x, %w, %b {padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
      return %y : tensor<2x4x3x3xf32>
    })",
                randomWeights({{"w", {4, 3, 3, 3}}, {"b", {4}}}));
}

TEST(ReferenceGradients, GroupedDilatedConv) {
  // 6 input and 4 output channels in 2 groups; taps 2 apart in height.
  checkFunction(R"(
    func.func @f(%x: tensor<2x6x7x6xf32>) -> tensor<2x4x7x4xf32> {
      %w = rn.weight "w" {init = #rn<init he_normal>} : tensor<4x3x3x2xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<4xf32>
      %y = rn.conv2d %x, %w, %b {dilations = array<i64: 2, 1>, groups = 2 : i64, padding = array<i64: 2, 1>, strides = array<i64: 1, 2>} : (tensor<2x6x7x6xf32>, tensor<4x3x3x2xf32>, tensor<4xf32>) -> tensor<2x4x7x4xf32>
      return %y : tensor<2x4x7x4xf32>
    })",
                randomWeights({{"w", {4, 3, 3, 2}}, {"b", {4}}}));
}

TEST(ReferenceGradients, SqueezeExcitationGate) {
  // sigmoid of a per-image gate times each channel, and dropout's fixed mask.
  checkFunction(R"(
    func.func @f(%x: tensor<2x3x4x5xf32>, %g: tensor<2x3xf32>) -> tensor<2x3x4x5xf32> {
      %s = rn.sigmoid %g : tensor<2x3xf32>
      %y = rn.channel_mul %x, %s : tensor<2x3x4x5xf32>, tensor<2x3xf32>
      %d = rn.dropout %y {rate = 0.3 : f64, stream = 2 : i64} : tensor<2x3x4x5xf32>
      return %d : tensor<2x3x4x5xf32>
    })",
                {}, BatchNormMode::Training);
}

TEST(ReferenceGradients, BatchNormTrainingThroughTheBatchStatistics) {
  WeightMap weights = randomWeights({{"g", {3}}, {"b", {3}}});
  weights["m"] = Tensor({3}, 0.0);
  weights["v"] = Tensor({3}, 1.0);
  checkFunction(R"(
    func.func @f(%x: tensor<2x3x2x3xf32>) -> tensor<2x3x2x3xf32> {
      %g = rn.weight "g" {init = #rn<init ones>} : tensor<3xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<3xf32>
      %m = rn.weight "m" {init = #rn<init zeros>, state} : tensor<3xf32>
      %v = rn.weight "v" {init = #rn<init ones>, state} : tensor<3xf32>
      %y = rn.batch_norm %x, %g, %b, %m, %v : tensor<2x3x2x3xf32>, tensor<3xf32>
      return %y : tensor<2x3x2x3xf32>
    })",
                weights, BatchNormMode::Training);
}

TEST(ReferenceGradients, BatchNormInference) {
  WeightMap weights = randomWeights({{"g", {3}}, {"b", {3}}, {"m", {3}}});
  weights["v"] = Tensor({3}, std::vector<double>{0.5, 1.0, 2.0});
  checkFunction(R"(
    func.func @f(%x: tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32> {
      %g = rn.weight "g" {init = #rn<init ones>} : tensor<3xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<3xf32>
      %m = rn.weight "m" {init = #rn<init zeros>, state} : tensor<3xf32>
      %v = rn.weight "v" {init = #rn<init ones>, state} : tensor<3xf32>
      %y = rn.batch_norm %x, %g, %b, %m, %v : tensor<2x3x2x2xf32>, tensor<3xf32>
      return %y : tensor<2x3x2x2xf32>
    })",
                weights);
}

TEST(ReferenceGradients, ReluAddAndTheirFanOut) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x2x3x3xf32>, %y: tensor<2x2x3x3xf32>) -> (tensor<2x2x3x3xf32>, tensor<2x2x3x3xf32>) {
      %r = rn.relu %x : tensor<2x2x3x3xf32>
      %a = rn.add %r, %y : tensor<2x2x3x3xf32>
      %b = rn.add %a, %x : tensor<2x2x3x3xf32>
      return %a, %b : tensor<2x2x3x3xf32>, tensor<2x2x3x3xf32>
    })",
                {});
}

TEST(ReferenceGradients, MaxPoolToTheMaximum) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x2x6x6xf32>) -> tensor<2x2x3x3xf32> {
      %y = rn.max_pool2d %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<2x2x6x6xf32> -> tensor<2x2x3x3xf32>
      return %y : tensor<2x2x3x3xf32>
    })",
                {});
}

TEST(ReferenceGradients, GlobalAveragePoolAndDense) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x4x3x3xf32>) -> tensor<2x5xf32> {
      %p = rn.global_avg_pool %x : tensor<2x4x3x3xf32> -> tensor<2x4xf32>
      %w = rn.weight "w" {init = #rn<init fc_uniform>} : tensor<5x4xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<5xf32>
      %y = rn.dense %p, %w, %b : (tensor<2x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x5xf32>
      return %y : tensor<2x5xf32>
    })",
                randomWeights({{"w", {5, 4}}, {"b", {5}}}));
}

TEST(ReferenceGradients, ZeroPadShortcut) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x2x4x4xf32>) -> tensor<2x4x2x2xf32> {
      %y = rn.zero_pad_shortcut %x {out_channels = 4 : i64, stride = 2 : i64} : tensor<2x2x4x4xf32> -> tensor<2x4x2x2xf32>
      return %y : tensor<2x4x2x2xf32>
    })",
                {});
}

TEST(ReferenceGradients, ScaleByChannel) {
  checkFunction(R"(
    func.func @f(%x: tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32> {
      %s = rn.weight "s" {init = #rn<init ones>} : tensor<3xf32>
      %y = rn.scale %x, %s : tensor<2x3x2x2xf32>, tensor<3xf32>
      return %y : tensor<2x3x2x2xf32>
    })",
                randomWeights({{"s", {3}}}));
}

TEST(ReferenceGradients, SoftmaxCrossEntropy) {
  auto context = makeContext();
  auto module = parseMlir(*context, R"(
    func.func @f(%logits: tensor<3x4xf32>, %labels: tensor<3xi32>) -> tensor<f32> {
      %l = rn.softmax_cross_entropy %logits, %labels : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<f32>
      return %l : tensor<f32>
    })");
  ASSERT_TRUE(module);
  Random rng(3);
  GradientCheck check(*module->getOps<mlir::func::FuncOp>().begin(),
                      {random({3, 4}, rng, 2.0), Tensor({3}, std::vector<double>{0, 3, 1})}, {},
                      BatchNormMode::Inference);
  check.skipInput(1);
  check.run();
}

TEST(ReferenceGradients, TwoBlockResidualNetworkInTrainingMode) {
  // Option B projection, batch norm on batch statistics, pooling and fc.
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, R"(
    network two_blocks {
      input = 3x8x8
      classes = 4
      shortcut = B
      conv(3x3, 4)
      bn
      relu
      maxpool(2x2)
      stage(basic, 4)
      stage(basic, 8, stride = 2)
      avgpool
      fc(classes)
    })",
                             2, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  WeightMap weights = toWeightMap(initializeWeights(*module, 5));
  Random rng(8);
  for (auto &entry : weights) // break the symmetry of gamma = 1, beta = 0
    if (llvm::StringRef(entry.getKey()).contains(".bn"))
      for (double &v : entry.getValue().data)
        v += 0.1 * rng.normal();
  GradientCheck check(forwardOf(*module), {random({2, 3, 8, 8}, rng)}, std::move(weights),
                      BatchNormMode::Training);
  check.run();
}
