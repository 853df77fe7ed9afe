//===- CompiledTrainingTest.cpp - Compiled SGD steps against the reference -===//
//
// Two compiled training steps (forward with batch statistics, loss,
// backward, SGD with momentum 0.9 and weight decay 1e-4, running statistics)
// against the same two steps computed by the reference executor's backward
// pass and plain C++ SGD. Tolerances: the loss within 1e-4 (relative); each
// trained tensor's change (the learning rate times its gradient) within 1e-3
// in relative 2-norm after the first step, 3e-3 after the second (which
// starts from weights carrying the first step's rounding); running
// statistics within 1e-4 of their magnitude.
//
//===----------------------------------------------------------------------===//

#include "CompiledTraining.h"
#include "ModelTestSupport.h"
#include "TrainingChecks.h"

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/Random.h"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <unistd.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

class CompiledTraining : public ::testing::TestWithParam<TrainingModel> {};

TEST_P(CompiledTraining, TwoStepsMatchTheReference) {
  const TrainingModel &model = GetParam();
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, readExample(model.name), model.batch, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  auto forward = forwardOf(*module);
  llvm::StringMap<bool> trainable;
  forward.walk([&](rn::WeightOp op) { trainable[op.getName()] = !op.getState(); });

  Random rng(10);
  WeightsFile file = perturbedWeights(*module, trainable, rng);
  std::vector<uint8_t> bytes = serializeWeights(file);
  WeightMap reference = toWeightMap(file), initial = reference, momentum;

  void *ctx = model.create();
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(model.loadWeights(ctx, bytes.data(), bytes.size()), 0) << model.errorMessage(ctx);

  for (int step = 0; step < 2; ++step) {
    Tensor images({model.batch, model.channels, model.height, model.width});
    for (double &v : images.data)
      v = float(rng.normal());
    std::vector<int32_t> labels;
    for (int64_t n = 0; n < model.batch; ++n)
      labels.push_back(int32_t(rng.nextU64() % uint64_t(model.classes)));
    std::vector<float> pixels = images.toFloat();
    float loss = -1;
    int32_t correct = -1;
    ASSERT_EQ(model.trainStep(ctx, pixels.data(), pixels.size(), labels.data(), labels.size(),
                              float(kLearningRate), &loss, &correct),
              0)
        << model.errorMessage(ctx);
    auto [expectedLoss, expectedCorrect] =
        referenceSgdStep(forward, images, labels, reference, momentum, trainable,
                         {kMomentum, kWeightDecay, kLearningRate, 0, uint32_t(step)});
    EXPECT_NEAR(loss, expectedLoss, 1e-4 * std::max(1.0, expectedLoss)) << "step " << step;
    EXPECT_EQ(correct, expectedCorrect) << "step " << step;
    // The first step checks the gradients; the second adds momentum on top
    // of weights that already carry the first step's rounding.
    expectWeightsMatch(model, ctx, reference, initial, trainable, step, step == 0 ? 1e-3 : 3e-3);
  }

  model.destroy(ctx);
}

INSTANTIATE_TEST_SUITE_P(Networks, CompiledTraining, ::testing::ValuesIn(trainingModels()),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace

namespace {

std::vector<uint8_t> fileBytes(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class CompiledCheckpoints : public ::testing::TestWithParam<TrainingModel> {};

TEST_P(CompiledCheckpoints, ResumingGivesTheSameWeightsAsNotStopping) {
  // A: step, checkpoint, step, save. B: load the checkpoint, the same step, save.
  // Same seed, same threads: the two files must be byte-identical.
  const TrainingModel &model = GetParam();
  auto context = makeContext();
  auto module = importSource(*context, readExample(model.name), model.batch);
  ASSERT_TRUE(module);
  std::vector<uint8_t> initial = serializeWeights(initializeWeights(*module, 12));
  Random rng(13);
  auto batch = [&](std::vector<float> &images, std::vector<int32_t> &labels) {
    images.resize(size_t(model.batch * model.channels * model.height * model.width));
    for (float &v : images)
      v = float(rng.normal());
    labels.clear();
    for (int64_t n = 0; n < model.batch; ++n)
      labels.push_back(int32_t(rng.nextU64() % uint64_t(model.classes)));
  };
  std::vector<float> images1, images2;
  std::vector<int32_t> labels1, labels2;
  batch(images1, labels1);
  batch(images2, labels2);
  std::string dir = "/tmp/resnetc-ckpt-" + std::to_string(getpid()) + "-" + model.name;
  std::string checkpoint = dir + ".ckpt", finalA = dir + ".a.rnw", finalB = dir + ".b.rnw";

  void *a = model.create();
  ASSERT_EQ(model.loadWeights(a, initial.data(), initial.size()), 0) << model.errorMessage(a);
  ASSERT_EQ(model.trainStep(a, images1.data(), images1.size(), labels1.data(), labels1.size(), 0.1f,
                            nullptr, nullptr),
            0);
  const char *keys[] = {"step", "epoch"};
  double values[] = {1, 0.5};
  ASSERT_EQ(model.saveCheckpoint(a, checkpoint.c_str(), keys, values, 2), 0)
      << model.errorMessage(a);
  float lossA = 0;
  ASSERT_EQ(model.trainStep(a, images2.data(), images2.size(), labels2.data(), labels2.size(), 0.1f,
                            &lossA, nullptr),
            0);
  ASSERT_EQ(model.saveWeights(a, finalA.c_str()), 0);
  model.destroy(a);

  void *b = model.create();
  ASSERT_EQ(model.loadCheckpoint(b, checkpoint.c_str()), 0) << model.errorMessage(b);
  double step = 0, epoch = 0, missing = 0;
  EXPECT_EQ(model.checkpointValue(b, "step", &step), 0);
  EXPECT_EQ(model.checkpointValue(b, "epoch", &epoch), 0);
  EXPECT_EQ(step, 1);
  EXPECT_EQ(epoch, 0.5);
  EXPECT_EQ(model.checkpointValue(b, "lr", &missing), 1);
  float lossB = 0;
  ASSERT_EQ(model.trainStep(b, images2.data(), images2.size(), labels2.data(), labels2.size(), 0.1f,
                            &lossB, nullptr),
            0);
  ASSERT_EQ(model.saveWeights(b, finalB.c_str()), 0);
  model.destroy(b);

  EXPECT_EQ(lossA, lossB);
  EXPECT_EQ(fileBytes(finalA), fileBytes(finalB)) << "resumed training diverged";
  // A plain weights file is not a checkpoint: it has no momentum.
  void *c = model.create();
  EXPECT_EQ(model.loadCheckpoint(c, finalA.c_str()), 3);
  EXPECT_NE(std::string(model.errorMessage(c)).find("momentum/"), std::string::npos)
      << model.errorMessage(c);
  model.destroy(c);
  for (const std::string &path : {checkpoint, finalA, finalB})
    std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Networks, CompiledCheckpoints, ::testing::ValuesIn(trainingModels()),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
