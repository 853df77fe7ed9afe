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
