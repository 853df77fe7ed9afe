//===- MetricsLog.h - metrics.csv and the curves of a training run -*- C++ -*-===//
//
// One row per epoch, rewritten atomically after every epoch so the file on
// disk always matches the last checkpoint; curves.svg plots the same rows.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TRAIN_METRICSLOG_H
#define RESNETC_TRAIN_METRICSLOG_H

#include <cstdint>
#include <string>
#include <vector>

namespace resnetc::train {

struct EpochMetrics {
  int epoch = 0;
  int64_t steps = 0;
  double learningRate = 0, trainLoss = 0, trainAccuracy = 0, testAccuracy = 0;
  double seconds = 0, imagesPerSecond = 0;
};

/// Reads metrics.csv as written by writeMetricsCsv; a missing file is empty.
bool readMetricsCsv(const std::string &path, std::vector<EpochMetrics> &rows, std::string &error);
bool writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &rows,
                     std::string &error);
/// Loss (left) and train / test accuracy (right) against the epoch, as SVG.
bool writeCurvesSvg(const std::string &path, const std::vector<EpochMetrics> &rows,
                    const std::string &title, std::string &error);

} // namespace resnetc::train

#endif // RESNETC_TRAIN_METRICSLOG_H
