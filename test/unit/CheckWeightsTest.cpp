//===- CheckWeightsTest.cpp - Weights that do not fit are named -----------===//

#include "resnetc/Weights/CheckWeights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace resnetc;

namespace {

NamedTensor tensor(const std::string &name, std::vector<int64_t> shape) {
  NamedTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.values.assign(size_t(t.elementCount()), 0.5f);
  return t;
}

const std::vector<ExpectedTensor> kExpected = {{"conv.weight", {8, 3, 3, 3}},
                                               {"fc.weight", {10, 8}}};

std::string joined(const std::vector<std::string> &lines) {
  std::string text;
  for (const std::string &line : lines)
    text += line + "\n";
  return text;
}

} // namespace

TEST(CheckWeights, AcceptsExactlyTheNetworksTensors) {
  std::vector<std::string> errors;
  EXPECT_TRUE(checkWeightsFit({tensor("conv.weight", {8, 3, 3, 3}), tensor("fc.weight", {10, 8})},
                              kExpected, {}, errors))
      << joined(errors);
}

TEST(CheckWeights, NamesEveryProblemWithBothShapes) {
  std::vector<NamedTensor> tensors = {tensor("fc.weight", {8, 10}), tensor("extra", {2})};
  std::vector<std::string> errors;
  EXPECT_FALSE(checkWeightsFit(tensors, kExpected, {}, errors));
  std::string text = joined(errors);
  EXPECT_NE(text.find("tensor 'conv.weight' [8, 3, 3, 3] is missing"), std::string::npos) << text;
  EXPECT_NE(text.find("tensor 'fc.weight' has shape [8, 10], the network expects [10, 8]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tensor 'extra' [2] is not a weight of the network"), std::string::npos)
      << text;
}

TEST(CheckWeights, RefusesNonFiniteValuesNamingTheTensor) {
  std::vector<NamedTensor> tensors = {tensor("conv.weight", {8, 3, 3, 3}),
                                      tensor("fc.weight", {10, 8})};
  tensors[1].values[17] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::string> errors;
  EXPECT_FALSE(checkWeightsFit(tensors, kExpected, {}, errors));
  EXPECT_NE(joined(errors).find("tensor 'fc.weight' holds a non-finite value (nan at element 17)"),
            std::string::npos)
      << joined(errors);
  EXPECT_EQ(firstNonFinite(tensors[1]), 17);
  tensors[1].values[17] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(firstNonFinite(tensors[1]), 17);
}

TEST(CheckWeights, CheckpointStateIsAcceptedOnlyWhenAsked) {
  std::vector<NamedTensor> tensors = {tensor("conv.weight", {8, 3, 3, 3}),
                                      tensor("fc.weight", {10, 8}),
                                      tensor("momentum/fc.weight", {10, 8})};
  std::vector<std::string> errors;
  EXPECT_TRUE(checkWeightsFit(tensors, kExpected, {}, errors)) << joined(errors);
  WeightsCheckOptions strict;
  strict.allowCheckpointState = false;
  EXPECT_FALSE(checkWeightsFit(tensors, kExpected, strict, errors));
}

TEST(CheckWeights, ManyProblemsAreSummarised) {
  std::vector<ExpectedTensor> expected;
  for (int i = 0; i < 100; ++i)
    expected.push_back({"t" + std::to_string(i), {1}});
  std::vector<std::string> errors;
  EXPECT_FALSE(checkWeightsFit({}, expected, {}, errors));
  ASSERT_EQ(errors.size(), 25u);
  EXPECT_EQ(errors.back(), "... and 76 more problems");
}
