//===- TrainingChecks.cpp - Compiled training against the reference -------===//

#include "TrainingChecks.h"

#include "resnetc/Weights/InitializeWeights.h"

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace resnetc;
using namespace resnetc::reference;

/// Saves the compiled weights of `ctx` and compares them with the reference's:
/// trained tensors by their change since `initial` (within `tolerance`,
/// relative), the others (running statistics) within 1e-4 of their size.
void resnetc::test::expectWeightsMatch(const TrainingModel &model, void *ctx, WeightMap &reference,
                                       WeightMap &initial, const llvm::StringMap<bool> &trainable,
                                       int step, double tolerance) {
  char path[] = "/tmp/resnetc-train-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(model.saveWeights(ctx, path), 0) << model.errorMessage(ctx);
  WeightsFile saved;
  std::string error;
  ASSERT_TRUE(readWeightsFile(path, saved, error)) << error;
  unlink(path);

  double worstRelative = 0;
  std::string worstTensor;
  for (const NamedTensor &tensor : saved.tensors) {
    const Tensor &expected = reference[tensor.name];
    const Tensor &before = initial[tensor.name];
    ASSERT_EQ(int64_t(tensor.values.size()), expected.size()) << tensor.name;
    if (trainable.lookup(tensor.name)) {
      // Relative error of the tensor's change (lr times the accumulated
      // gradients), in the 2-norm, beyond what storing the weights as
      // floats costs: half an ulp an element, 6e-8 of the weights' norm
      // (it dominates where a step moves a tensor by less than 1e-4 of its
      // size, such as a squeeze-excitation gate's fc weights).
      double error = 0, size = 0, norm = 0;
      for (int64_t i = 0; i < expected.size(); ++i) {
        double change = expected.data[i] - before.data[i];
        double d = double(tensor.values[i]) - expected.data[i];
        error += d * d;
        size += change * change;
        norm += expected.data[i] * expected.data[i];
      }
      double storage = 6e-8 * std::sqrt(norm);
      double beyond = std::max(0.0, std::sqrt(error) - storage);
      double relative = beyond / std::max(std::sqrt(size), 1e-300);
      if (relative > worstRelative) {
        worstRelative = relative;
        worstTensor = tensor.name;
      }
      EXPECT_LE(relative, tolerance) << tensor.name << " after step " << step + 1;
    } else {
      double scale = 1e-12, worst = 0;
      for (int64_t i = 0; i < expected.size(); ++i) {
        scale = std::max(scale, std::fabs(expected.data[i]));
        worst = std::max(worst, std::fabs(double(tensor.values[i]) - expected.data[i]));
      }
      EXPECT_LE(worst, 1e-4 * scale) << tensor.name << ": largest difference " << worst;
    }
  }
  ::testing::Test::RecordProperty("worst_relative_error_step" + std::to_string(step + 1),
                                  std::to_string(worstRelative) + " (" + worstTensor + ")");
  std::printf("%s: step %d: worst relative error of a trained tensor %.2e (%s)\n", model.name,
              step + 1, worstRelative, worstTensor.c_str());
}

/// He-initialised weights with the batch norms' scales and shifts moved off
/// 1 and 0, so that their gradients matter.
WeightsFile resnetc::test::perturbedWeights(mlir::ModuleOp module,
                                            const llvm::StringMap<bool> &trainable, Random &rng) {
  WeightsFile file = initializeWeights(module, 9);
  for (NamedTensor &tensor : file.tensors)
    if (llvm::StringRef(tensor.name).contains("bn") && trainable.lookup(tensor.name))
      for (float &v : tensor.values)
        v += float(0.1 * rng.normal());
  return file;
}
