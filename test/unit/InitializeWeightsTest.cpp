//===- InitializeWeightsTest.cpp - He initialisation and architecture hash ===//

#include "ModelTestSupport.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Weights/InitializeWeights.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::test;

namespace {

struct Moments {
  double mean = 0, stddev = 0, maxAbs = 0;
};

Moments momentsOf(const std::vector<float> &values) {
  Moments m;
  for (float v : values)
    m.mean += v;
  m.mean /= double(values.size());
  for (float v : values) {
    m.stddev += (v - m.mean) * (v - m.mean);
    m.maxAbs = std::max(m.maxAbs, double(std::fabs(v)));
  }
  m.stddev = std::sqrt(m.stddev / double(values.size()));
  return m;
}

} // namespace

TEST(InitializeWeights, FollowsHeAndTheFrameworkConventions) {
  auto context = makeContext();
  auto module = importSource(*context, readExample("resnet20"));
  ASSERT_TRUE(module);
  WeightsFile weights = initializeWeights(*module, 7);
  EXPECT_EQ(weights.model, "resnet20");
  EXPECT_EQ(weights.architectureHash, architectureHash(*module));

  // Every rn.weight has its tensor, of its shape.
  int weightOps = 0;
  module->walk([&](rn::WeightOp op) {
    ++weightOps;
    const NamedTensor *tensor = weights.find(op.getName().str());
    ASSERT_NE(tensor, nullptr) << op.getName().str();
    auto shape = op.getType().getShape();
    EXPECT_EQ(tensor->shape, std::vector<int64_t>(shape.begin(), shape.end()));
  });
  EXPECT_EQ(size_t(weightOps), weights.tensors.size());

  // Conv: N(0, 2 / fan_in); 36864 samples give the stddev within ~1%.
  const NamedTensor *conv = weights.find("stage3.2.conv2.weight");
  ASSERT_NE(conv, nullptr);
  Moments m = momentsOf(conv->values);
  double expected = std::sqrt(2.0 / (64 * 3 * 3));
  EXPECT_NEAR(m.mean, 0.0, 0.03 * expected);
  EXPECT_NEAR(m.stddev, expected, 0.03 * expected);

  // fc: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); its bias and BN shifts are zero, BN scales one.
  Moments fc = momentsOf(weights.find("head.fc1.weight")->values);
  EXPECT_LE(fc.maxAbs, 1 / std::sqrt(64.0));
  EXPECT_NEAR(fc.stddev, 1 / std::sqrt(64.0) / std::sqrt(3.0), 0.2 / std::sqrt(64.0));
  for (const char *name : {"head.fc1.bias", "stem.bn1.bias", "stem.bn1.running_mean"})
    for (float v : weights.find(name)->values)
      EXPECT_EQ(v, 0.0f) << name;
  for (const char *name : {"stem.bn1.weight", "stem.bn1.running_var"})
    for (float v : weights.find(name)->values)
      EXPECT_EQ(v, 1.0f) << name;
}

TEST(InitializeWeights, SeedDecidesEverything) {
  auto context = makeContext();
  auto module = importSource(*context, readExample("resnet20"));
  ASSERT_TRUE(module);
  EXPECT_EQ(serializeWeights(initializeWeights(*module, 7)),
            serializeWeights(initializeWeights(*module, 7)));
  EXPECT_NE(serializeWeights(initializeWeights(*module, 7)),
            serializeWeights(initializeWeights(*module, 8)));
}

TEST(ArchitectureHash, IgnoresBatchSizeButNotTopology) {
  auto context = makeContext();
  auto hashOf = [&](const std::string &model, int64_t batch) {
    auto module = importSource(*context, readExample(model), batch);
    EXPECT_TRUE(module) << model;
    return module ? architectureHash(*module) : 0;
  };
  uint64_t resnet20 = hashOf("resnet20", 1);
  EXPECT_EQ(resnet20, hashOf("resnet20", 128));
  EXPECT_NE(resnet20, hashOf("resnet32", 1));
  // Same weights, different wiring: the plain network has no additions.
  EXPECT_NE(resnet20, hashOf("plain20", 1));
  // Same wiring, different input.
  EXPECT_NE(resnet20, hashOf("resnet20_fmnist", 1));
  // Option A and B differ only where the width grows.
  EXPECT_NE(hashOf("resnet34", 1), hashOf("resnet34a", 1));
}
