//===- LearningRateSchedulesTest.cpp - Learning-rate schedules ------------===//

#include "resnetc/data/LearningRateSchedules.h"

#include <gtest/gtest.h>

using namespace resnetc;

TEST(Schedules, MultistepDividesByTenAtTheMilestones) {
  LearningRateSchedule s;
  std::string error;
  ASSERT_TRUE(LearningRateSchedule::parse("multistep", 0.1, s, error)) << error;
  EXPECT_DOUBLE_EQ(s.rate(0.0), 0.1);
  EXPECT_DOUBLE_EQ(s.rate(0.49), 0.1);
  EXPECT_NEAR(s.rate(0.5), 0.01, 1e-15);
  EXPECT_NEAR(s.rate(0.8), 0.001, 1e-15);
  // The paper's CIFAR recipe: 32k and 48k of 64k iterations.
  ASSERT_TRUE(LearningRateSchedule::parse("multistep:0.5,0.75", 0.1, s, error)) << error;
  EXPECT_NEAR(s.rate(48000.0 / 64000), 0.001, 1e-15);
}

TEST(Schedules, CosineAndConstant) {
  LearningRateSchedule s;
  std::string error;
  ASSERT_TRUE(LearningRateSchedule::parse("cosine", 0.2, s, error));
  EXPECT_DOUBLE_EQ(s.rate(0), 0.2);
  EXPECT_NEAR(s.rate(0.5), 0.1, 1e-12);
  EXPECT_NEAR(s.rate(1.0), 0.0, 1e-12);
  ASSERT_TRUE(LearningRateSchedule::parse("constant", 0.3, s, error));
  EXPECT_DOUBLE_EQ(s.rate(0.99), 0.3);
}

TEST(Schedules, WarmupUntilTheErrorFalls) {
  LearningRateSchedule s;
  std::string error;
  ASSERT_TRUE(LearningRateSchedule::parse("multistep", 0.1, s, error));
  s.setWarmup(0.01, 0.8); // ResNet-110: 0.01 until the training error is under 80%
  EXPECT_DOUBLE_EQ(s.rate(0.1), 0.01);
  s.observeTrainingError(0.85);
  EXPECT_DOUBLE_EQ(s.rate(0.1), 0.01);
  s.observeTrainingError(0.79);
  EXPECT_DOUBLE_EQ(s.rate(0.1), 0.1);
  s.observeTrainingError(0.9); // once warmed up, it stays so
  EXPECT_DOUBLE_EQ(s.rate(0.1), 0.1);
}

TEST(Schedules, BadSpecificationsAreErrors) {
  LearningRateSchedule s;
  std::string error;
  for (const char *text : {"step", "multistep:0.75,0.5", "multistep:1.5", "multistep:", "cosine:3",
                           "multistep:0.5,x"}) {
    EXPECT_FALSE(LearningRateSchedule::parse(text, 0.1, s, error)) << text;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_FALSE(LearningRateSchedule::parse("constant", -1, s, error));
}

TEST(Schedules, GradualWarmupOfLargeBatches) {
  // Goyal et al.: batch 8192 = 32 x 256, rate 0.1 x 32 = 3.2, reached after
  // 5 of 90 epochs from 0.1, then the multistep schedule on 3.2.
  LearningRateSchedule s;
  std::string error;
  ASSERT_TRUE(LearningRateSchedule::parse("multistep:0.5,0.75", 3.2, s, error)) << error;
  s.setGradualWarmup(0.1, 5.0 / 90);
  EXPECT_DOUBLE_EQ(s.rate(0), 0.1);
  EXPECT_NEAR(s.rate(2.5 / 90), 0.1 + (3.2 - 0.1) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(s.rate(5.0 / 90), 3.2);
  EXPECT_DOUBLE_EQ(s.rate(0.6), 0.32);
}
