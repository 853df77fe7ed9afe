//===- CompiledBackboneTest.cpp - A headless network against the reference -===//

#include "ModelTestSupport.h"
#include "TrainingChecks.h"
#include "backbone.h"

#include "resnetc/Dialect/Rn/RnOps.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace resnetc;
using namespace resnetc::reference;
using namespace resnetc::test;

namespace {

// A backbone (named outputs, no classifier): inference through run, and
// two training steps through train_forward and train_backward from given
// gradients of its outputs, against the reference executor. Outputs within
// 1e-4 of their largest magnitude; weights as TwoStepsMatchTheReference.
TEST(CompiledBackbone, OutputsAndTrainingStepsMatchTheReference) {
  TrainingModel model{
      "backbone",
      BACKBONE_BATCH,
      BACKBONE_INPUT_CHANNELS,
      BACKBONE_INPUT_HEIGHT,
      BACKBONE_INPUT_WIDTH,
      0,
      reinterpret_cast<void *(*)()>(backbone_create),
      reinterpret_cast<void (*)(void *)>(backbone_destroy),
      reinterpret_cast<int32_t (*)(void *, const void *, size_t)>(backbone_load_weights),
      reinterpret_cast<int32_t (*)(void *, const float *, size_t, float *, size_t)>(backbone_run),
      nullptr,
      reinterpret_cast<int32_t (*)(void *, const char *)>(backbone_save_weights),
      nullptr,
      nullptr,
      nullptr,
      reinterpret_cast<const char *(*)(const void *)>(backbone_error_message)};
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, readExample("backbone"), BACKBONE_BATCH, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  auto forward = forwardOf(*module);
  ASSERT_EQ(forward.getNumResults(), unsigned(BACKBONE_OUTPUTS));
  llvm::StringMap<bool> trainable;
  forward.walk([&](rn::WeightOp op) { trainable[op.getName()] = !op.getState(); });
  Random rng(11);
  WeightsFile file = perturbedWeights(*module, trainable, rng);
  std::vector<uint8_t> bytes = serializeWeights(file);
  WeightMap reference = toWeightMap(file), momentum;

  backbone_context *ctx = backbone_create();
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(backbone_load_weights(ctx, bytes.data(), bytes.size()), 0)
      << backbone_error_message(ctx);

  // The outputs, NCHW, one after another at the header's offsets.
  const int64_t offsets[] = {BACKBONE_STAGE1_OFFSET, BACKBONE_STAGE2_OFFSET,
                             BACKBONE_STAGE3_OFFSET};
  const int64_t sizes[] = {BACKBONE_STAGE1_SIZE, BACKBONE_STAGE2_SIZE, BACKBONE_STAGE3_SIZE};
  auto expectOutputs = [&](const std::vector<float> &compiled, const std::vector<Tensor> &expected,
                           const char *what) {
    ASSERT_EQ(expected.size(), size_t(BACKBONE_OUTPUTS));
    for (size_t k = 0; k < expected.size(); ++k) {
      ASSERT_EQ(expected[k].size(), sizes[k]);
      double scale = 1e-12, worst = 0;
      for (int64_t i = 0; i < sizes[k]; ++i) {
        scale = std::max(scale, std::fabs(expected[k].data[i]));
        worst = std::max(worst, std::fabs(compiled[offsets[k] + i] - expected[k].data[i]));
      }
      EXPECT_LE(worst, 1e-4 * scale) << what << ": output " << k;
    }
  };

  Tensor images(
      {BACKBONE_BATCH, BACKBONE_INPUT_CHANNELS, BACKBONE_INPUT_HEIGHT, BACKBONE_INPUT_WIDTH});
  for (double &v : images.data)
    v = float(rng.normal());
  std::vector<float> pixels = images.toFloat(), outputs(BACKBONE_OUTPUT_SIZE);
  ASSERT_EQ(backbone_run(ctx, pixels.data(), pixels.size(), outputs.data(), outputs.size()), 0)
      << backbone_error_message(ctx);
  {
    std::vector<Tensor> expected;
    std::string error;
    WeightMap scratch = reference;
    ASSERT_TRUE(run(forward, {images}, scratch, RunOptions(), expected, error)) << error;
    expectOutputs(outputs, expected, "inference");
  }

  // Without train_forward first, train_backward is refused.
  std::vector<float> gradients(BACKBONE_OUTPUT_SIZE, 0.0f);
  EXPECT_EQ(backbone_train_backward(ctx, gradients.data(), gradients.size(), 0.1f),
            RESNETC_ERROR_ARGUMENT);
  EXPECT_NE(std::string(backbone_error_message(ctx)).find("call train_forward first"),
            std::string::npos)
      << backbone_error_message(ctx);

  WeightMap initial = reference;
  for (int step = 0; step < 2; ++step) {
    for (double &v : images.data)
      v = float(rng.normal());
    pixels = images.toFloat();
    ASSERT_EQ(
        backbone_train_forward(ctx, pixels.data(), pixels.size(), outputs.data(), outputs.size()),
        0)
        << backbone_error_message(ctx);
    std::vector<Tensor> seeds;
    for (size_t k = 0; k < BACKBONE_OUTPUTS; ++k) {
      seeds.emplace_back(
          mlir::cast<mlir::ShapedType>(forward.getResultTypes()[k]).getShape().vec());
      for (int64_t i = 0; i < sizes[k]; ++i) {
        seeds[k].data[i] = float(0.1 * rng.normal());
        gradients[offsets[k] + i] = float(seeds[k].data[i]);
      }
    }
    // A run in between would reuse the arena: it cancels the pending step.
    if (step == 1) {
      std::vector<float> scratch(BACKBONE_OUTPUT_SIZE);
      ASSERT_EQ(backbone_run(ctx, pixels.data(), pixels.size(), scratch.data(), scratch.size()), 0);
      EXPECT_EQ(backbone_train_backward(ctx, gradients.data(), gradients.size(), 0.05f),
                RESNETC_ERROR_ARGUMENT);
      ASSERT_EQ(
          backbone_train_forward(ctx, pixels.data(), pixels.size(), outputs.data(), outputs.size()),
          0);
    }
    ASSERT_EQ(
        backbone_train_backward(ctx, gradients.data(), gradients.size(), float(kLearningRate)), 0)
        << backbone_error_message(ctx);
    std::vector<Tensor> expected =
        referenceSgdStepFromGradients(forward, images, seeds, reference, momentum, trainable,
                                      {kMomentum, kWeightDecay, kLearningRate, 0, uint32_t(step)});
    expectOutputs(outputs, expected, "train_forward");
    expectWeightsMatch(model, ctx, reference, initial, trainable, step, step == 0 ? 1e-3 : 3e-3);
  }
  backbone_destroy(ctx);
}

} // namespace
