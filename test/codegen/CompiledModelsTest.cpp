//===- CompiledModelsTest.cpp - Generated libraries against the reference -===//
//
// For each example model: He-initialised weights whose batch-norm statistics
// are calibrated on random images (so activations keep a sane scale through
// a thousand layers), the compiled forward pass and the reference executor on
// the same weights and random inputs. Tolerance: the largest difference is at
// most 1e-4 of the range of the reference logits or, for a network that is
// chaotic at these weights, at most 4 times what a one-ulp change of its
// first conv's weights does to the reference itself.
//
//===----------------------------------------------------------------------===//

#include "CompiledModels.h"
#include "ModelTestSupport.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/Random.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

Tensor randomImages(std::vector<int64_t> shape, uint64_t seed) {
  Tensor images(std::move(shape));
  Random random(seed);
  for (double &v : images.data)
    v = float(random.normal()); // values a float holds exactly
  return images;
}

class CompiledModelNumerics : public ::testing::TestWithParam<CompiledModel> {};

TEST_P(CompiledModelNumerics, MatchesTheReferenceExecutor) {
  const CompiledModel &model = GetParam();
  auto context = makeContext();
  std::string diagnostics;
  std::vector<int64_t> input{model.channels, model.height, model.width};
  auto module = importSource(*context, readExample(model.name), model.batch, &diagnostics, input);
  ASSERT_TRUE(module) << diagnostics;
  auto forward = forwardOf(*module);
  std::vector<int64_t> inputShape{model.batch, model.channels, model.height, model.width};

  // Weights: He initialisation, batch-norm statistics of one random batch.
  WeightsFile file = initializeWeights(*module, 1);
  WeightMap weights = toWeightMap(file);
  // rn.scale starts at ones, which would hide a missing multiply: random
  // scales around one instead.
  Random scales(5);
  forward.walk([&](rn::ScaleOp scale) {
    auto weight = scale.getScale().getDefiningOp<rn::WeightOp>();
    for (double &v : weights[weight.getName()].data)
      v = double(float(0.5 + scales.uniform()));
  });
  {
    RunOptions calibrate;
    calibrate.batchNorm = BatchNormMode::Training;
    calibrate.momentum = 1.0;
    std::vector<Tensor> outputs;
    std::string error;
    ASSERT_TRUE(run(forward, {randomImages(inputShape, 2)}, weights, calibrate, outputs, error))
        << error;
  }
  for (NamedTensor &tensor : file.tensors)
    tensor.values = weights[tensor.name].toFloat();
  std::vector<uint8_t> bytes = serializeWeights(file);

  // The reference, in inference mode, on fresh images.
  Tensor images = randomImages(inputShape, 3);
  Tensor expected = runFirstFunction(*module, {images}, weights, BatchNormMode::Inference);
  ASSERT_EQ(expected.shape, (std::vector<int64_t>{model.batch, model.classes}));

  // The compiled library.
  void *compiled = model.create();
  ASSERT_NE(compiled, nullptr);
  ASSERT_EQ(model.loadWeights(compiled, bytes.data(), bytes.size()), 0)
      << model.errorMessage(compiled);
  std::vector<float> logits(expected.data.size(), std::nanf(""));
  std::vector<float> pixels = images.toFloat();
  ASSERT_EQ(model.run(compiled, pixels.data(), pixels.size(), logits.data(), logits.size()), 0)
      << model.errorMessage(compiled);
  model.destroy(compiled);

  auto [low, high] = std::minmax_element(expected.data.begin(), expected.data.end());
  double range = std::max(double(*high - *low), 1e-6);
  double worst = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    worst = std::max(worst, std::fabs(double(logits[i]) - double(expected.data[i])));
  }
  RecordProperty("max_relative_error", std::to_string(worst / range));
  if (worst <= 1e-4 * range)
    return;
  // Some networks are chaotic at these weights (deep plain networks: the
  // paper's degradation problem): rounding alone moves their logits. Measure
  // how far the reference itself moves when the first conv's weights change
  // by one ulp; the compiled code may differ by at most 4 times that.
  WeightMap perturbed = weights;
  for (auto &entry : perturbed)
    if (llvm::StringRef(entry.getKey()).ends_with("conv1.weight"))
      for (double &v : entry.getValue().data)
        v = std::nextafter(float(v), float(2 * v)); // one float ulp
  Tensor nudged = runFirstFunction(*module, {images}, perturbed, BatchNormMode::Inference);
  double sensitivity = 0;
  for (size_t i = 0; i < nudged.data.size(); ++i)
    sensitivity = std::max(sensitivity, std::fabs(double(nudged.data[i]) - expected.data[i]));
  RecordProperty("one_ulp_sensitivity", std::to_string(sensitivity / range));
  EXPECT_GT(sensitivity, 1e-4 * range)
      << "largest difference " << worst << " is over 1e-4 of the logit range " << range
      << ", and the network is not chaotic (one-ulp sensitivity " << sensitivity << ")";
  EXPECT_LE(worst, 4 * sensitivity)
      << "largest difference " << worst << ", one-ulp sensitivity of the reference " << sensitivity
      << ", logit range " << range;
  std::printf("note: %s is chaotic at these weights: a one-ulp change of its first conv moves "
              "the reference's logits by %.3g of their range; the compiled logits differ by "
              "%.3g\n",
              model.name, sensitivity / range, worst / range);
}

INSTANTIATE_TEST_SUITE_P(ExampleModels, CompiledModelNumerics,
                         ::testing::ValuesIn(compiledModels()),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
