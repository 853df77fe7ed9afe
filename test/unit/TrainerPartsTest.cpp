//===- TrainerPartsTest.cpp - metrics.csv, curves.svg, augmentation -------===//

#include "resnetc/train/MetricsLog.h"
#include "resnetc/train/Trainer.h"

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
  std::remove(path.c_str());
}

TEST(MetricsLog, CurvesAreAnSvgWithOneLinePerSeries) {
  std::string path = tempPath("curves.svg");
  std::vector<EpochMetrics> rows = {{1, 10, 0.1, 1.5, 0.5, 0.6, 1, 1},
                                    {2, 10, 0.1, 0.9, 0.7, 0.75, 1, 1},
                                    {3, 10, 0.01, 0.5, 0.85, 0.8, 1, 1}};
  std::string error;
  ASSERT_TRUE(writeCurvesSvg(path, rows, "resnet20", error)) << error;
  std::string svg = readAll(path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 3u); // loss, train accuracy, test accuracy
  EXPECT_NE(svg.find("test accuracy %"), std::string::npos);
  // No rows: still a valid, empty picture.
  ASSERT_TRUE(writeCurvesSvg(path, {}, "empty", error));
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
