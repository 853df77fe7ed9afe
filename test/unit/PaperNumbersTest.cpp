//===- PaperNumbersTest.cpp - resnetc stats against the paper's counts ----===//
//
// Parameters, multiply-adds and weighted layers of every example model,
// against ../shared/spec/resnet-paper.md (the paper and torchvision's counts).
//
//===----------------------------------------------------------------------===//

#include "ModelTestSupport.h"

#include "resnetc/Analysis/ModelStats.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <dirent.h>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::test;

namespace {

ModelStats statsOf(const std::string &source) {
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, source, 1, &diagnostics);
  EXPECT_TRUE(module) << diagnostics;
  return module ? computeStats(*module) : ModelStats();
}

/// The value rounded as the spec writes it (e.g. 11.69M, 1.81G).
double rounded(int64_t value, double unit, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(double(value) / unit * scale) / scale;
}

struct ImageNetCase {
  const char *model;
  double paramsM;
  double macsG;
  int64_t weightedLayers;
};

void PrintTo(const ImageNetCase &c, std::ostream *os) { *os << c.model; }

class ImageNetNumbers : public ::testing::TestWithParam<ImageNetCase> {};

TEST_P(ImageNetNumbers, MatchThePaper) {
  const ImageNetCase &expected = GetParam();
  ModelStats stats = statsOf(readExample(expected.model));
  EXPECT_EQ(stats.name, expected.model);
  EXPECT_EQ(stats.classes, 1000);
  EXPECT_EQ(stats.input, (std::vector<int64_t>{3, 224, 224}));
  EXPECT_DOUBLE_EQ(rounded(stats.params, 1e6, 2), expected.paramsM);
  EXPECT_DOUBLE_EQ(rounded(stats.macs, 1e9, 2), expected.macsG);
  EXPECT_EQ(stats.weightedLayers, expected.weightedLayers);
}

INSTANTIATE_TEST_SUITE_P(
    Spec, ImageNetNumbers,
    ::testing::Values(
        ImageNetCase{"resnet18", 11.69, 1.81, 18}, ImageNetCase{"resnet34", 21.80, 3.66, 34},
        ImageNetCase{"resnet50", 25.56, 3.86, 50}, ImageNetCase{"resnet101", 44.55, 7.57, 101},
        ImageNetCase{"resnet152", 60.19, 11.28, 152},
        // Option A adds no parameters; option C projects every shortcut.
        ImageNetCase{"resnet34a", 21.62, 3.64, 34}, ImageNetCase{"resnet34c", 22.72, 3.83, 34},
        // Plain networks: the same stacks without shortcuts.
        ImageNetCase{"plain18", 11.52, 1.79, 18}, ImageNetCase{"plain34", 21.62, 3.64, 34}),
    [](const auto &info) { return std::string(info.param.model); });

TEST(ImageNetNumbers, StrideOnTheThreeByThreeCostsMore) {
  // torchvision's v1.5 puts the bottleneck's stride on the 3x3 conv.
  const std::pair<const char *, double> cases[] = {
      {"resnet50", 4.09}, {"resnet101", 7.80}, {"resnet152", 11.51}};
  for (auto [model, macsG] : cases) {
    std::string source = readExample(model);
    size_t at;
    while ((at = source.find("stage(bottleneck,")) != std::string::npos)
      source.replace(at, 17, "stage(bottleneck_v15,");
    ModelStats stats = statsOf(source);
    EXPECT_DOUBLE_EQ(rounded(stats.macs, 1e9, 2), macsG) << model;
  }
}

struct FamilyCase {
  const char *model;
  int64_t params; // torchvision's sum(p.numel() for p in model.parameters())
  int64_t macs;   // its Conv2d and Linear multiply-adds at 224x224
  int64_t weightedLayers;
};

void PrintTo(const FamilyCase &c, std::ostream *os) { *os << c.model; }

class FamilyNumbers : public ::testing::TestWithParam<FamilyCase> {};

// Grouped convs (ResNeXt) and wider bottlenecks: exactly torchvision's counts.
TEST_P(FamilyNumbers, MatchTorchvision) {
  const FamilyCase &expected = GetParam();
  ModelStats stats = statsOf(readExample(expected.model));
  EXPECT_EQ(stats.classes, 1000);
  EXPECT_EQ(stats.params, expected.params);
  EXPECT_EQ(stats.macs, expected.macs);
  EXPECT_EQ(stats.weightedLayers, expected.weightedLayers);
}

INSTANTIATE_TEST_SUITE_P(
    Torchvision, FamilyNumbers,
    ::testing::Values(FamilyCase{"resnext50_32x4d", 25028904, 4230479872, 50},
                      FamilyCase{"resnext101_32x8d", 88791336, 16414015488, 101},
                      FamilyCase{"wide_resnet50_2", 68883240, 11398021120, 50}),
    [](const auto &info) { return std::string(info.param.model); });

struct CifarCase {
  const char *model;
  double params;
  int decimals;
  int64_t weightedLayers;
};

void PrintTo(const CifarCase &c, std::ostream *os) { *os << c.model; }

class CifarNumbers : public ::testing::TestWithParam<CifarCase> {};

TEST_P(CifarNumbers, MatchThePaper) {
  const CifarCase &expected = GetParam();
  ModelStats stats = statsOf(readExample(expected.model));
  EXPECT_EQ(stats.classes, 10);
  EXPECT_DOUBLE_EQ(rounded(stats.params, 1e6, expected.decimals), expected.params);
  EXPECT_EQ(stats.weightedLayers, expected.weightedLayers);
}

INSTANTIATE_TEST_SUITE_P(
    Spec, CifarNumbers,
    ::testing::Values(CifarCase{"resnet20", 0.27, 2, 20}, CifarCase{"resnet32", 0.46, 2, 32},
                      CifarCase{"resnet44", 0.66, 2, 44}, CifarCase{"resnet56", 0.85, 2, 56},
                      CifarCase{"resnet110", 1.7, 1, 110}, CifarCase{"resnet1202", 19.4, 1, 1202},
                      CifarCase{"plain20", 0.27, 2, 20}, CifarCase{"plain32", 0.46, 2, 32},
                      CifarCase{"plain44", 0.66, 2, 44}, CifarCase{"plain56", 0.85, 2, 56},
                      CifarCase{"plain110", 1.7, 1, 110},
                      // Identity Mappings paper: 1.7M and 10.2M for 164 and 1001
                      // (their count; ours includes the few projection weights).
                      CifarCase{"preact_resnet110", 1.7, 1, 110},
                      CifarCase{"preact_resnet164", 1.7, 1, 164},
                      CifarCase{"preact_resnet1001", 10.3, 1, 1001},
                      CifarCase{"resnet20_fmnist", 0.27, 2, 20}),
    [](const auto &info) { return std::string(info.param.model); });

// Zagoruyko and Komodakis: WRN-28-10 has 36.5M parameters (36,479,194 in
// their PyTorch code); widths 16k, 32k, 64k.
TEST(FamilyNumbers, WideResNet28x10) {
  ModelStats stats = statsOf(readExample("wrn28_10"));
  EXPECT_EQ(stats.classes, 10);
  EXPECT_EQ(stats.params, 36479194);
  EXPECT_EQ(stats.weightedLayers, 26);
  EXPECT_EQ(stats.shortcutProjections, 3);
}

// Hu et al.: SE-ResNet-50 has 28.09M parameters (reduction 16): ResNet-50's
// 25,557,032 and 2,530,992 in the gates' fc layers with their biases, which
// are not counted as weighted layers.
TEST(FamilyNumbers, SeResNet50) {
  ModelStats stats = statsOf(readExample("se_resnet50"));
  EXPECT_EQ(stats.params, 25557032 + 2530992);
  EXPECT_DOUBLE_EQ(rounded(stats.params, 1e6, 2), 28.09);
  EXPECT_EQ(stats.weightedLayers, 50);
}

// ResNet-50 as a backbone (C3-C5, no head): ResNet-50 without its fc layer
// (2048 x 1000 weights and 1000 biases; as many multiply-adds an image).
TEST(FamilyNumbers, ResNet50Backbone) {
  ModelStats stats = statsOf(readExample("resnet50_backbone"));
  EXPECT_EQ(stats.params, 25557032 - (2048 * 1000 + 1000));
  EXPECT_EQ(stats.macs, 3857973248 - 2048 * 1000);
  EXPECT_EQ(stats.weightedLayers, 49);
}

// The Fashion-MNIST networks of the degradation experiment: the CIFAR
// networks of the same depth with one input channel instead of three (16
// filters x 3 x 3 x 2 = 288 fewer weights in the first conv).
TEST(FamilyNumbers, FashionMnistDepthsMatchTheirCifarNetworks) {
  for (const char *depth : {"20", "32", "44", "56", "110"})
    for (const char *kind : {"plain", "resnet"}) {
      std::string cifar = std::string(kind) + depth, fmnist = cifar + "_fmnist";
      if (cifar == "plain110")
        continue; // not part of the experiment
      ModelStats a = statsOf(readExample(cifar)), b = statsOf(readExample(fmnist));
      EXPECT_EQ(b.params, a.params - 288) << fmnist;
      EXPECT_EQ(b.weightedLayers, a.weightedLayers) << fmnist;
      EXPECT_EQ(b.classes, 10) << fmnist;
    }
}

TEST(ExampleModels, EveryFileBuildsAndVerifies) {
  DIR *dir = opendir(RESNETC_EXAMPLES_DIR);
  ASSERT_NE(dir, nullptr);
  int count = 0;
  while (dirent *entry = readdir(dir)) {
    llvm::StringRef name(entry->d_name);
    if (!name.consume_back(".rn"))
      continue;
    ModelStats stats = statsOf(readExample(name.str()));
    EXPECT_EQ(stats.name, name.str());
    EXPECT_GT(stats.params, 0) << name.str();
    ++count;
  }
  closedir(dir);
  EXPECT_GE(count, 24);
}

TEST(ExampleModels, FashionMnistInput) {
  ModelStats stats = statsOf(readExample("resnet20_fmnist"));
  EXPECT_EQ(stats.input, (std::vector<int64_t>{1, 28, 28}));
  // The last stage works on 7x7 maps.
  bool sawSevenBySeven = false;
  for (const LayerStats &layer : stats.layers)
    if (layer.outputShape == std::vector<int64_t>{64, 7, 7})
      sawSevenBySeven = true;
  EXPECT_TRUE(sawSevenBySeven);
}

} // namespace
