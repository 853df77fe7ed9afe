//===- CompiledModelApiTest.cpp - Misuse of a generated library's API -----===//
//
// Null pointers, wrong sizes, wrong weights, use after destroy: status codes
// and messages, never an abort. Needs the library in this process, so it is
// not part of the cross-target runs.
//
//===----------------------------------------------------------------------===//

#include "CompiledModels.h"
#include "ModelTestSupport.h"

#include "resnetc/Weights/InitializeWeights.h"

#include <gtest/gtest.h>

#include <limits>

using namespace resnetc;
using namespace resnetc::test;

TEST(CompiledModelApi, RejectsMisuseWithCodes) {
  const CompiledModel &model = compiledModels().front();
  void *ctx = model.create();
  ASSERT_NE(ctx, nullptr);
  std::vector<float> input(size_t(model.batch * model.channels * model.height * model.width));
  std::vector<float> logits(size_t(model.batch * model.classes));
  // No weights yet.
  EXPECT_EQ(model.run(ctx, input.data(), input.size(), logits.data(), logits.size()), 4);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("no weights"), std::string::npos);
  // Null pointers and wrong sizes.
  EXPECT_EQ(model.run(ctx, nullptr, input.size(), logits.data(), logits.size()), 1);
  EXPECT_EQ(model.run(ctx, input.data(), input.size() - 1, logits.data(), logits.size()), 2);
  EXPECT_EQ(model.loadWeights(ctx, nullptr, 0), 1);
  // Garbage and another model's weights.
  const char garbage[] = "definitely not weights";
  EXPECT_EQ(model.loadWeights(ctx, garbage, sizeof(garbage)), 3);
  WeightsFile other;
  other.model = "another_model";
  std::vector<uint8_t> bytes = serializeWeights(other);
  EXPECT_EQ(model.loadWeights(ctx, bytes.data(), bytes.size()), 3);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("another_model"), std::string::npos);
  EXPECT_EQ(model.setThreads(ctx, -1), 1);
  model.destroy(ctx);
  EXPECT_EQ(model.run(nullptr, input.data(), input.size(), logits.data(), logits.size()), 1);
  EXPECT_STREQ(model.errorMessage(nullptr), "invalid context (null or destroyed)");
}

namespace {

/// He-initialised weights of `model`, as a parsed file.
WeightsFile initialWeights(const CompiledModel &model) {
  auto context = makeContext();
  auto module = importSource(*context, readExample(model.name), model.batch);
  return initializeWeights(*module, 3);
}

bool load(const CompiledModel &model, void *ctx, const WeightsFile &file) {
  std::vector<uint8_t> bytes = serializeWeights(file);
  return model.loadWeights(ctx, bytes.data(), bytes.size()) == 0;
}

} // namespace

TEST(CompiledModelApi, AppliesKeepsAndSavesTheInputDescription) {
  const CompiledModel &model = compiledModels().front();
  const size_t channels = size_t(model.channels);
  const size_t plane = size_t(model.height * model.width);
  WeightsFile file = initialWeights(model);
  void *ctx = model.create();
  ASSERT_NE(ctx, nullptr);
  ASSERT_TRUE(load(model, ctx, file)) << model.errorMessage(ctx);
  // He-initialised weights record no normalisation: normalize says so.
  std::vector<float> image(channels * plane, 0.75f);
  EXPECT_EQ(model.normalize(ctx, image.data(), image.size()), 3);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("record no input normalisation"),
            std::string::npos);
  EXPECT_EQ(model.className(ctx, 0), nullptr);

  // Weights that record them.
  file.input.layout = "NCHW";
  file.input.shape = {model.channels, model.height, model.width};
  for (size_t c = 0; c < channels; ++c) {
    file.input.mean.push_back(0.25f + 0.125f * float(c));
    file.input.stddev.push_back(0.5f);
  }
  for (int64_t k = 0; k < model.classes; ++k)
    file.classes.push_back("class-" + std::to_string(k));
  ASSERT_TRUE(load(model, ctx, file)) << model.errorMessage(ctx);
  ASSERT_EQ(model.normalize(ctx, image.data(), image.size()), 0) << model.errorMessage(ctx);
  for (size_t c = 0; c < channels; ++c)
    EXPECT_EQ(image[c * plane + plane - 1], (0.75f - file.input.mean[c]) / 0.5f);
  EXPECT_EQ(model.normalize(ctx, image.data(), image.size() - 1), 2); // not whole images
  EXPECT_STREQ(model.className(ctx, 1), "class-1");
  EXPECT_EQ(model.className(ctx, model.classes), nullptr);
  std::vector<float> mean(channels), stddev(channels);
  ASSERT_EQ(model.inputNormalization(ctx, mean.data(), stddev.data(), channels), 0);
  EXPECT_EQ(mean, file.input.mean);

  // A save writes them again, and what the application set wins.
  std::vector<float> newMean(channels, 0.5f), badStd(channels, 0.0f);
  EXPECT_EQ(model.setInputNormalization(ctx, newMean.data(), badStd.data(), channels), 1);
  EXPECT_EQ(model.setInputNormalization(ctx, newMean.data(), stddev.data(), channels + 1), 2);
  ASSERT_EQ(model.setInputNormalization(ctx, newMean.data(), stddev.data(), channels), 0);
  std::string path = ::testing::TempDir() + "/api-description.rnw";
  ASSERT_EQ(model.saveWeights(ctx, path.c_str()), 0) << model.errorMessage(ctx);
  WeightsFile saved;
  std::string error;
  ASSERT_TRUE(readWeightsFile(path, saved, error)) << error;
  EXPECT_EQ(saved.input.mean, newMean);
  EXPECT_EQ(saved.input.shape, file.input.shape);
  EXPECT_EQ(saved.classes, file.classes);
  model.destroy(ctx);
}

TEST(CompiledModelApi, RefusesNonFiniteAndMisshapenWeightsNamingThem) {
  const CompiledModel &model = compiledModels().front();
  WeightsFile file = initialWeights(model);
  void *ctx = model.create();
  ASSERT_NE(ctx, nullptr);
  NamedTensor &victim = file.tensors.back();
  std::string name = victim.name;
  victim.values[victim.values.size() / 2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(load(model, ctx, file));
  EXPECT_NE(std::string(model.errorMessage(ctx))
                .find("tensor '" + name + "' holds a non-finite value (nan"),
            std::string::npos)
      << model.errorMessage(ctx);
  victim.shape.push_back(1);
  EXPECT_FALSE(load(model, ctx, file));
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("tensor '" + name + "' has shape ["),
            std::string::npos)
      << model.errorMessage(ctx);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find(", 1], the network expects ["),
            std::string::npos)
      << model.errorMessage(ctx);
  model.destroy(ctx);
}
