//===- ReferenceExecutorTest.cpp - The oracle against hand-computed values ===//

#include "ModelTestSupport.h"

#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/Random.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

/// Runs `body` (a func.func taking `argTypes`) on `inputs` with `weights`.
Tensor runOp(const std::string &function, const std::vector<Tensor> &inputs, WeightMap weights = {},
             BatchNormMode mode = BatchNormMode::Inference, WeightMap *after = nullptr) {
  auto context = makeContext();
  auto module = parseMlir(*context, function);
  EXPECT_TRUE(module) << function;
  if (!module)
    return {};
  Tensor result = runFirstFunction(*module, inputs, weights, mode);
  if (after)
    *after = weights;
  return result;
}

std::vector<float> iota(int n, float start = 1) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i)
    v[i] = start + float(i);
  return v;
}

void expectNear(const std::vector<double> &actual, const std::vector<double> &expected,
                double tolerance = 1e-9) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "at " << i;
}

} // namespace

TEST(ReferenceExecutor, ConvSumsTheZeroPaddedNeighbourhood) {
  // 3x3 input 1..9, a 3x3 kernel of ones and bias 1, padding 1.
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
      %w = rn.weight "w" {init = #rn<init ones>} : tensor<1x1x3x3xf32>
      %b = rn.weight "b" {init = #rn<init ones>} : tensor<1xf32>
      %y = rn.conv2d %x, %w, %b {padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>
      return %y : tensor<1x1x3x3xf32>
    })",
                   {Tensor({1, 1, 3, 3}, iota(9))},
                   {{"w", Tensor({1, 1, 3, 3}, 1.0f)}, {"b", Tensor({1}, 1.0f)}});
  expectNear(y.data, {13, 22, 17, 28, 46, 34, 25, 40, 29});
}

TEST(ReferenceExecutor, ConvStrideAndChannels) {
  // 2 input channels (1..16 and all 1), 2 outputs, 1x1 kernel, stride 2.
  std::vector<float> x = iota(16);
  x.insert(x.end(), 16, 1.0f);
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
      %w = rn.weight "w" {init = #rn<init ones>} : tensor<2x2x1x1xf32>
      %y = rn.conv2d %x, %w {padding = array<i64: 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
      return %y : tensor<1x2x2x2xf32>
    })",
                   {Tensor({1, 2, 4, 4}, x)},
                   // out0 = in0 + 10 in1; out1 = -in0.
                   {{"w", Tensor({2, 2, 1, 1}, std::vector<float>{1, 10, -1, 0})}});
  // in0 at (0,0) (0,2) (2,0) (2,2) = 1, 3, 9, 11.
  expectNear(y.data, {11, 13, 19, 21, -1, -3, -9, -11});
}

TEST(ReferenceExecutor, BatchNormInference) {
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
      %g = rn.weight "g" {init = #rn<init ones>} : tensor<1xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<1xf32>
      %m = rn.weight "m" {init = #rn<init zeros>, state} : tensor<1xf32>
      %v = rn.weight "v" {init = #rn<init ones>, state} : tensor<1xf32>
      %y = rn.batch_norm %x, %g, %b, %m, %v {epsilon = 0.0001 : f64} : tensor<1x1x2x2xf32>, tensor<1xf32>
      return %y : tensor<1x1x2x2xf32>
    })",
                   {Tensor({1, 1, 2, 2}, iota(4))},
                   {{"g", Tensor({1}, 2.0f)},
                    {"b", Tensor({1}, 1.0f)},
                    {"m", Tensor({1}, 2.0f)},
                    {"v", Tensor({1}, std::vector<double>{3.9999})}});
  // (x - 2) / sqrt(4) * 2 + 1
  expectNear(y.data, {0, 1, 2, 3});
}

TEST(ReferenceExecutor, BatchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  WeightMap after;
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<2x1x1x2xf32>) -> tensor<2x1x1x2xf32> {
      %g = rn.weight "g" {init = #rn<init ones>} : tensor<1xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<1xf32>
      %m = rn.weight "m" {init = #rn<init zeros>, state} : tensor<1xf32>
      %v = rn.weight "v" {init = #rn<init ones>, state} : tensor<1xf32>
      %y = rn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-12 : f64} : tensor<2x1x1x2xf32>, tensor<1xf32>
      return %y : tensor<2x1x1x2xf32>
    })",
                   {Tensor({2, 1, 1, 2}, iota(4))},
                   {{"g", Tensor({1}, 1.0f)},
                    {"b", Tensor({1}, 0.0f)},
                    {"m", Tensor({1}, 0.0f)},
                    {"v", Tensor({1}, 1.0f)}},
                   BatchNormMode::Training, &after);
  // Batch mean 2.5, biased variance 1.25.
  double s = 1 / std::sqrt(1.25);
  expectNear(y.data, {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s}, 1e-6);
  // Running: 0.9 * old + 0.1 * batch, with the unbiased variance 5/3.
  EXPECT_NEAR(after["m"].data[0], 0.25f, 1e-6);
  EXPECT_NEAR(after["v"].data[0], 0.9f + 0.1f * 5.0f / 3.0f, 1e-6);
}

TEST(ReferenceExecutor, MaxPoolIgnoresPadding) {
  // Inputs all negative: a zero from the padding must never win.
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
      %y = rn.max_pool2d %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
      return %y : tensor<1x1x2x2xf32>
    })",
                   {Tensor({1, 1, 4, 4}, iota(16, -100))});
  expectNear(y.data, {-95, -93, -87, -85});
}

TEST(ReferenceExecutor, ReluAddPoolDense) {
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x2x1x2xf32>) -> tensor<1x1xf32> {
      %r = rn.relu %x : tensor<1x2x1x2xf32>
      %a = rn.add %r, %x : tensor<1x2x1x2xf32>
      %p = rn.global_avg_pool %a : tensor<1x2x1x2xf32> -> tensor<1x2xf32>
      %w = rn.weight "w" {init = #rn<init ones>} : tensor<1x2xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<1xf32>
      %y = rn.dense %p, %w, %b : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x1xf32>
      return %y : tensor<1x1xf32>
    })",
                   {Tensor({1, 2, 1, 2}, std::vector<float>{-1, 2, 3, -4})},
                   {{"w", Tensor({1, 2}, std::vector<float>{1, 10})}, {"b", Tensor({1}, 0.5f)}});
  // relu + x: {-1, 4, 6, -4}; means per channel 1.5 and 1; 1.5 + 10 + 0.5.
  expectNear(y.data, {12});
}

TEST(ReferenceExecutor, ZeroPadShortcutSubsamplesAndCentres) {
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x2x2x2xf32>) -> tensor<1x4x1x1xf32> {
      %y = rn.zero_pad_shortcut %x {out_channels = 4 : i64, stride = 2 : i64} : tensor<1x2x2x2xf32> -> tensor<1x4x1x1xf32>
      return %y : tensor<1x4x1x1xf32>
    })",
                   {Tensor({1, 2, 2, 2}, iota(8))});
  // One zero channel below, the two old channels' (0,0) pixels, one above.
  expectNear(y.data, {0, 1, 5, 0});
}

TEST(ReferenceExecutor, SoftmaxCrossEntropy) {
  Tensor loss = runOp(
      R"(
    func.func @f(%logits: tensor<2x2xf32>, %labels: tensor<2xi32>) -> tensor<f32> {
      %l = rn.softmax_cross_entropy %logits, %labels : (tensor<2x2xf32>, tensor<2xi32>) -> tensor<f32>
      return %l : tensor<f32>
    })",
      {Tensor({2, 2}, std::vector<float>{0, 0, 1000, 0}), Tensor({2}, std::vector<float>{0, 0})});
  // log 2 for the first row, ~0 for the second (and no overflow at 1000).
  expectNear(loss.data, {float(std::log(2.0) / 2)});
}

TEST(ReferenceExecutor, FoldedBatchNormComputesTheSameConv) {
  Tensor y = runOp(R"(
    func.func @f(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
      %w = rn.weight "w" {init = #rn<init ones>} : tensor<1x1x1x1xf32>
      %g = rn.weight "g" {init = #rn<init ones>} : tensor<1xf32>
      %b = rn.weight "b" {init = #rn<init zeros>} : tensor<1xf32>
      %m = rn.weight "m" {init = #rn<init zeros>, state} : tensor<1xf32>
      %v = rn.weight "v" {init = #rn<init ones>, state} : tensor<1xf32>
      %fw, %fb = rn.fold_batch_norm %w, %g, %b, %m, %v {epsilon = 1.0e-12 : f64} : (tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> (tensor<1x1x1x1xf32>, tensor<1xf32>)
      %y = rn.conv2d %x, %fw, %fb {padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
      return %y : tensor<1x1x2x2xf32>
    })",
                   {Tensor({1, 1, 2, 2}, iota(4))},
                   {{"w", Tensor({1, 1, 1, 1}, 3.0f)},
                    {"g", Tensor({1}, 2.0f)},
                    {"b", Tensor({1}, 1.0f)},
                    {"m", Tensor({1}, 0.5f)},
                    {"v", Tensor({1}, 4.0f)}});
  // bn(3x) = (3x - 0.5) / 2 * 2 + 1 = 3x + 0.5
  expectNear(y.data, {3.5f, 6.5f, 9.5f, 12.5f});
}

TEST(ReferenceExecutor, OneResidualBlockOnAFourByFourInput) {
  // y = fc(avgpool(relu(bn(conv1x1(x)) + x))), by hand: conv weight 2, BN
  // with mean 1 and variance 1 - eps (so it subtracts 1), fc weight 0.5, bias 1.
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, R"(
    network one_block {
      input = 1x4x4
      classes = 1
      shortcut = B
      residual {
        conv(1x1, 1)
        bn
      }
      relu
      avgpool
      fc(1)
    })",
                             1, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  WeightMap weights = toWeightMap(initializeWeights(*module, 0));
  weights["conv1.weight"] = Tensor({1, 1, 1, 1}, 2.0f);
  weights["bn1.running_mean"] = Tensor({1}, 1.0f);
  weights["bn1.running_var"] = Tensor({1}, 1.0f - 1e-5f);
  weights["fc1.weight"] = Tensor({1, 1}, 0.5f);
  weights["fc1.bias"] = Tensor({1}, 1.0f);
  std::vector<float> x = {-2, -1, 0, 1, 2, 3, 4, 5, -3, -4, 6, 7, 0, 0, 1, 1};
  double sum = 0;
  for (float v : x)
    sum += std::max(0.0, 2.0 * v - 1 + v);
  double expected = 0.5 * sum / 16 + 1;
  Tensor y = runFirstFunction(*module, {Tensor({1, 1, 4, 4}, x)}, weights);
  expectNear(y.data, {expected}, 1e-5f);
}

TEST(ReferenceExecutor, BatchNormFoldingKeepsResNet20Numerics) {
  // The inference pipeline (with rn-fold-batch-norm) against the unfolded
  // network, on random weights and non-trivial running statistics.
  auto context = makeContext();
  std::string source = readExample("resnet20");
  auto plain = importSource(*context, source, 2);
  auto folded = importSource(*context, source, 2);
  ASSERT_TRUE(plain && folded);
  ASSERT_TRUE(succeeded(prepareForInference(*folded)));
  WeightMap weights = toWeightMap(initializeWeights(*plain, 3));
  Random random(4);
  for (auto &entry : weights) {
    llvm::StringRef name = entry.getKey();
    for (double &v : entry.getValue().data) {
      if (name.ends_with("running_mean"))
        v = float(0.1 * random.normal());
      else if (name.ends_with("running_var"))
        v = float(0.5 + random.uniform());
      else if (name.ends_with("bn1.bias") || name.ends_with("bn2.bias"))
        v = float(0.1 * random.normal());
    }
  }
  Tensor input({2, 3, 32, 32});
  for (double &v : input.data)
    v = float(random.normal());
  WeightMap copy = weights;
  Tensor expected = runFirstFunction(*plain, {input}, weights);
  Tensor actual = runFirstFunction(*folded, {input}, copy);
  ASSERT_EQ(actual.shape, (std::vector<int64_t>{2, 10}));
  // Tolerance: float rounding of the folded weights, relative 1e-4 of the logits' scale.
  double scale = 0;
  for (float v : expected.data)
    scale = std::max(scale, double(std::fabs(v)));
  expectNear(actual.data, expected.data, float(1e-4 * std::max(1.0, scale)));
}

TEST(ReferenceExecutor, MissingWeightIsAnError) {
  auto context = makeContext();
  auto module = parseMlir(*context, R"(
    func.func @f() -> tensor<2xf32> {
      %w = rn.weight "absent" {init = #rn<init ones>} : tensor<2xf32>
      return %w : tensor<2xf32>
    })");
  ASSERT_TRUE(module);
  WeightMap weights;
  std::vector<Tensor> outputs;
  std::string error;
  EXPECT_FALSE(run(*module->getOps<mlir::func::FuncOp>().begin(), {}, weights, {}, outputs, error));
  EXPECT_NE(error.find("no weight named 'absent'"), std::string::npos) << error;
}
