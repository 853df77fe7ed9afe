//===- CompiledTrainingApiTest.cpp - Misuse of a generated train step -----===//

#include "CompiledTraining.h"
#include "ModelTestSupport.h"

#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/ModelRuntime.h"

#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <vector>

// Halide's allocator, which the generated libraries export (HalideRuntime.h).
extern "C" void *halide_malloc(void *user_context, size_t size);
extern "C" void halide_free(void *user_context, void *block);

using namespace resnetc::test;

TEST(CompiledTrainingApi, RejectsBadLabelsAndInferenceOnlyUse) {
  const TrainingModel &model = trainingModels().front();
  void *ctx = model.create();
  std::vector<float> images(size_t(model.batch * model.channels * model.height * model.width));
  std::vector<int32_t> labels(size_t(model.batch), 0);
  EXPECT_EQ(model.trainStep(ctx, images.data(), images.size(), labels.data(), labels.size(), 0.1f,
                            nullptr, nullptr),
            4); // no weights yet
  labels[0] = int32_t(model.classes);
  EXPECT_EQ(model.trainStep(ctx, images.data(), images.size(), labels.data(), labels.size(), 0.1f,
                            nullptr, nullptr),
            1);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("label"), std::string::npos);
  model.destroy(ctx);
}

TEST(CompiledTrainingApi, NonFiniteImagesAndLossesAreReported) {
  const TrainingModel &model = trainingModels().front();
  auto context = resnetc::test::makeContext();
  auto module =
      resnetc::test::importSource(*context, resnetc::test::readExample(model.name), model.batch);
  ASSERT_TRUE(module);
  std::vector<uint8_t> weights = resnetc::serializeWeights(resnetc::initializeWeights(*module, 4));
  void *ctx = model.create();
  ASSERT_EQ(model.loadWeights(ctx, weights.data(), weights.size()), 0);
  size_t perImage = size_t(model.channels * model.height * model.width);
  std::vector<float> images(size_t(model.batch) * perImage, 0.5f);
  std::vector<int32_t> labels(size_t(model.batch), 1);

  // A NaN pixel is refused before it can touch the weights.
  images[perImage + 7] = std::nanf("");
  EXPECT_EQ(model.trainStep(ctx, images.data(), images.size(), labels.data(), labels.size(), 0.1f,
                            nullptr, nullptr),
            1);
  EXPECT_NE(std::string(model.errorMessage(ctx)).find("image 1 holds a non-finite value"),
            std::string::npos)
      << model.errorMessage(ctx);
  images[perImage + 7] = 0.5f;

  // A diverging learning rate: RESNETC_ERROR_NUMERIC (8), naming the loss and
  // where the weights went wrong.
  int32_t status = 0;
  float loss = 0;
  for (int step = 0; step < 5 && status == 0; ++step)
    status = model.trainStep(ctx, images.data(), images.size(), labels.data(), labels.size(), 1e30f,
                             &loss, nullptr);
  EXPECT_EQ(status, 8);
  std::string message = model.errorMessage(ctx);
  EXPECT_NE(message.find("train_step: the loss is"), std::string::npos) << message;
  EXPECT_TRUE(message.find("the first weight with a non-finite value is '") != std::string::npos ||
              message.find("overflowed") != std::string::npos)
      << message;
  model.destroy(ctx);
}

TEST(CompiledTrainingApi, DestroyingTheLastContextFreesTheCachedScratch) {
  // The kernels' scratch blocks stay cached while a context lives (up to 256
  // MiB), and go back to the system with the last one. The library's scratch
  // cache is reached as its kernels reach it: through Halide's allocator,
  // which the runtime points at the cache when a context is created.
  const TrainingModel &model = trainingModels().front();
  void *first = model.create(), *second = model.create();
  ASSERT_TRUE(first && second);
  halide_free(nullptr, halide_malloc(nullptr, size_t(1) << 20));
  EXPECT_GT(resnetc_rt_scratch_cached_bytes(), 0u);
  model.destroy(second);
  EXPECT_GT(resnetc_rt_scratch_cached_bytes(), 0u);
  model.destroy(first);
  EXPECT_EQ(resnetc_rt_scratch_cached_bytes(), 0u);
}
