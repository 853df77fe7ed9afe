//===- DeviceResidencyTest.cpp - GPU libraries copy only at the API's edges -===//
//
// A library compiled for a GPU target keeps its weights and activations on
// the device between kernels: the runtime's transfer counters
// (resnetc_rt_device_transfers, which also count any range a kernel had to
// fetch to the host) move by the same small number per call, however many
// kernels the call runs (ResNet-20's step runs about a hundred).
//
//===----------------------------------------------------------------------===//

#include "CompiledTraining.h"
#include "ModelTestSupport.h"

#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/ModelRuntime.h"
#include "resnetc/runtime/WeightsFile.h"

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace resnetc;
using namespace resnetc::test;

namespace {

struct Transfers {
  uint64_t toDevice = 0, toHost = 0;
  Transfers operator-(const Transfers &earlier) const {
    return {toDevice - earlier.toDevice, toHost - earlier.toHost};
  }
  bool operator==(const Transfers &other) const {
    return toDevice == other.toDevice && toHost == other.toHost;
  }
};

void PrintTo(const Transfers &t, std::ostream *os) {
  *os << t.toDevice << " to the device, " << t.toHost << " to the host";
}

Transfers transfers(void *ctx) {
  Transfers t;
  EXPECT_EQ(resnetc_rt_device_transfers(ctx, &t.toDevice, &t.toHost), RESNETC_OK);
  return t;
}

class DeviceResidency : public ::testing::TestWithParam<TrainingModel> {};

TEST_P(DeviceResidency, CopiesOnlyAtTheApiEdges) {
  const TrainingModel &model = GetParam();
  auto context = makeContext();
  std::string diagnostics;
  auto module = importSource(*context, readExample(model.name), model.batch, &diagnostics);
  ASSERT_TRUE(module) << diagnostics;
  std::vector<uint8_t> bytes = serializeWeights(initializeWeights(*module, 3));

  void *ctx = model.create();
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(transfers(ctx), (Transfers{0, 0})) << "nothing moves before the weights load";
  ASSERT_EQ(model.loadWeights(ctx, bytes.data(), bytes.size()), 0) << model.errorMessage(ctx);
  EXPECT_EQ(transfers(ctx), (Transfers{1, 0})) << "loading uploads the weights space once";

  std::vector<float> images(size_t(model.batch * model.channels * model.height * model.width));
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = float(std::sin(0.37 * double(i)));
  std::vector<int32_t> labels(size_t(model.batch));
  for (size_t i = 0; i < labels.size(); ++i)
    labels[i] = int32_t(i % size_t(model.classes));
  std::vector<float> logits(size_t(model.batch * model.classes)), again(logits.size());

  auto run = [&](std::vector<float> &out) {
    Transfers before = transfers(ctx);
    ASSERT_EQ(model.run(ctx, images.data(), images.size(), out.data(), out.size()), 0)
        << model.errorMessage(ctx);
    EXPECT_EQ(transfers(ctx) - before, (Transfers{1, 1})) << "a run: the images in, the logits out";
  };
  run(logits);
  run(again);
  EXPECT_EQ(logits, again) << "the same input, the same logits";
  for (float v : logits)
    EXPECT_TRUE(std::isfinite(v));

  for (int step = 0; step < 2; ++step) {
    Transfers before = transfers(ctx);
    float loss = 0;
    int32_t correct = -1;
    ASSERT_EQ(model.trainStep(ctx, images.data(), images.size(), labels.data(), labels.size(),
                              0.05f, &loss, &correct),
              0)
        << model.errorMessage(ctx);
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_GE(correct, 0);
    EXPECT_EQ(transfers(ctx) - before, (Transfers{3, 1}))
        << "a step: images, labels and the learning rate in; the loss and the count out";
  }
  run(again);
  EXPECT_NE(logits, again) << "the steps changed the weights the run reads";

  char path[] = "/tmp/resnetc-device-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  Transfers before = transfers(ctx);
  ASSERT_EQ(model.saveWeights(ctx, path), 0) << model.errorMessage(ctx);
  EXPECT_EQ(transfers(ctx) - before, (Transfers{0, 1})) << "saving downloads the weights once";
  WeightsFile saved;
  std::string error;
  EXPECT_TRUE(readWeightsFile(path, saved, error)) << error;
  std::remove(path);

  // Saving left both copies current: the next run uploads only its images.
  std::vector<float> afterSave(logits.size());
  run(afterSave);
  EXPECT_EQ(afterSave, again);
  model.destroy(ctx);
}

INSTANTIATE_TEST_SUITE_P(Models, DeviceResidency, ::testing::ValuesIn(trainingModels()),
                         [](const ::testing::TestParamInfo<TrainingModel> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
