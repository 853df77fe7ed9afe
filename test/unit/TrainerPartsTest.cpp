//===- TrainerPartsTest.cpp - metrics.csv, curves.svg, augmentation -------===//

#include "resnetc/train/MetricsLog.h"
#include "resnetc/train/Trainer.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

using namespace resnetc::train;

namespace {

std::string tempPath(const char *name) {
  return "/tmp/resnetc-trainer-" + std::to_string(getpid()) + "-" + name;
}

std::string readAll(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST(MetricsLog, RoundTripsAndRefusesOtherFiles) {
  std::string path = tempPath("metrics.csv");
  std::vector<EpochMetrics> rows(2);
  rows[0] = {1, 468, 0.1, 0.5123, 0.812, 0.8531, 61.25, 980.5};
  rows[1] = {2, 468, 0.01, 0.3012, 0.9, 0.9012, 60.5, 990.25};
  std::string error;
  ASSERT_TRUE(writeMetricsCsv(path, rows, error)) << error;
  std::vector<EpochMetrics> back;
  ASSERT_TRUE(readMetricsCsv(path, back, error)) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].epoch, 2);
  EXPECT_EQ(back[1].steps, 468);
  EXPECT_DOUBLE_EQ(back[1].learningRate, 0.01);
  EXPECT_DOUBLE_EQ(back[0].trainLoss, 0.5123);
  EXPECT_DOUBLE_EQ(back[1].testAccuracy, 0.9012);

  // A missing file is an empty history; another file is refused.
  EXPECT_TRUE(readMetricsCsv(tempPath("missing.csv"), back, error));
  EXPECT_TRUE(back.empty());
  { std::ofstream(path) << "a,b\n1,2\n"; }
  EXPECT_FALSE(readMetricsCsv(path, back, error));
  EXPECT_NE(error.find("unexpected header"), std::string::npos) << error;
  ASSERT_TRUE(writeMetricsCsv(path, rows, error));
  { std::ofstream(path, std::ios::app) << "3,1,oops\n"; }
  EXPECT_FALSE(readMetricsCsv(path, back, error));
  EXPECT_NE(error.find(":4: not a row"), std::string::npos) << error;
  // A file of an older resnetc, without test_loss, still resumes.
  {
    std::ofstream(path) << "epoch,steps,learning_rate,train_loss,train_accuracy,test_accuracy,"
                           "seconds,images_per_second\n1,468,0.1,0.5,0.8,0.85,61.25,980.5\n";
  }
  ASSERT_TRUE(readMetricsCsv(path, back, error)) << error;
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(std::isnan(back[0].testLoss));
  EXPECT_DOUBLE_EQ(back[0].testAccuracy, 0.85);
  // A run with --validation names its columns so, and resumes from them.
  ASSERT_TRUE(writeMetricsCsv(path, rows, error, /*validation=*/true));
  {
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, "epoch,steps,learning_rate,train_loss,train_accuracy,validation_accuracy,"
                      "seconds,images_per_second,validation_loss");
  }
  ASSERT_TRUE(readMetricsCsv(path, back, error)) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_DOUBLE_EQ(back[1].testAccuracy, 0.9012);
  std::remove(path.c_str());
}

TEST(MetricsLog, StepsRoundTrip) {
  std::string path = tempPath("steps.csv");
  std::vector<StepMetrics> rows = {{1, 0.25, 0.1, 2.25}, {2, 0.5, 0.1, 1.75}};
  std::string error;
  ASSERT_TRUE(writeStepsCsv(path, rows, error)) << error;
  std::vector<StepMetrics> back;
  ASSERT_TRUE(readStepsCsv(path, back, error)) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].step, 2);
  EXPECT_DOUBLE_EQ(back[1].epoch, 0.5);
  EXPECT_DOUBLE_EQ(back[0].loss, 2.25);
  { std::ofstream(path, std::ios::app) << "3,x\n"; }
  EXPECT_FALSE(readStepsCsv(path, back, error));
  EXPECT_NE(error.find(":4: not a row of 4 numbers"), std::string::npos) << error;
  std::remove(path.c_str());
}

static size_t occurrences(const std::string &text, const std::string &what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

TEST(MetricsLog, CurvesAreAnSvgWithOneLinePerSeries) {
  std::string path = tempPath("curves.svg");
  std::vector<EpochMetrics> rows = {{1, 10, 0.1, 1.5, 0.5, 0.6, 1, 1, 1.4},
                                    {2, 10, 0.1, 0.9, 0.7, 0.75, 1, 1, 0.8},
                                    {3, 10, 0.01, 0.5, 0.85, 0.8, 1, 1, 0.6}};
  std::vector<StepMetrics> steps;
  for (int s = 1; s <= 30; ++s)
    steps.push_back({s, s / 10.0, s <= 20 ? 0.1 : 0.01, 2.0 - s / 20.0});
  std::string error;
  ASSERT_TRUE(writeCurvesSvg(path, rows, steps, "resnet20", error)) << error;
  std::string svg = readAll(path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // Loss (each step, each epoch's training and test), accuracy (training,
  // test), learning rate.
  EXPECT_EQ(occurrences(svg, "<polyline"), 6u);
  for (const char *label :
       {"test accuracy %", "test loss", "training loss, each step", "learning rate, each step"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  // Round ticks: the accuracy axis (50-85) in steps of 10, and epochs 0-3.
  EXPECT_NE(svg.find(">50</text>"), std::string::npos);
  EXPECT_NE(svg.find(">90</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">0.575</text>"), std::string::npos);

  // One epoch: the per-epoch values still show, as markers (4 values, and
  // 4 legend markers besides).
  ASSERT_TRUE(writeCurvesSvg(path, {rows[0]}, {}, "one", error)) << error;
  svg = readAll(path);
  EXPECT_EQ(occurrences(svg, "<circle"), 5u * 2);
  // No rows: still a valid, empty picture.
  ASSERT_TRUE(writeCurvesSvg(path, {}, {}, "empty", error));
  EXPECT_NE(readAll(path).find("</svg>"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Trainer, AugmentationSpellings) {
  resnetc::data::Augmentation a;
  std::string error;
  ASSERT_TRUE(parseAugmentation("pad4,crop,flip", a, error)) << error;
  EXPECT_EQ(a.pad, 4);
  EXPECT_TRUE(a.crop);
  EXPECT_TRUE(a.flip);
  ASSERT_TRUE(parseAugmentation("flip", a, error));
  EXPECT_EQ(a.pad, 0);
  EXPECT_FALSE(a.crop);
  ASSERT_TRUE(parseAugmentation("none", a, error));
  EXPECT_FALSE(a.flip);
  EXPECT_FALSE(parseAugmentation("crop", a, error));
  EXPECT_NE(error.find("needs padding"), std::string::npos);
  EXPECT_FALSE(parseAugmentation("pad4,rotate", a, error));
  EXPECT_NE(error.find("unknown augmentation 'rotate'"), std::string::npos);
  EXPECT_FALSE(parseAugmentation("pad99999", a, error));
}
