//===- MetricsLog.h - metrics.csv and the curves of a training run -*- C++ -*-===//
//
// metrics.csv: one row per epoch; steps.csv: the training loss and learning
// rate of every step. Both are rewritten atomically with each checkpoint so
// that the files on disk always match it; curves.svg plots them.
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
  double testLoss = 0; ///< NaN in the rows of files written before it was recorded.
};

/// One training step: its number in the run (from 1), the fraction of the
/// run done after it (epochs, fractional), its learning rate and loss.
struct StepMetrics {
  int64_t step = 0;
  double epoch = 0, learningRate = 0, loss = 0;
};

/// Reads metrics.csv as written by writeMetricsCsv (or by an older resnetc,
/// without test_loss); a missing file is empty.
bool readMetricsCsv(const std::string &path, std::vector<EpochMetrics> &rows, std::string &error);
/// With `validation`, the test columns are named validation_accuracy and
/// validation_loss: the run tested its epochs on held-out training images.
bool writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &rows,
                     std::string &error, bool validation = false);
/// steps.csv, the same way.
bool readStepsCsv(const std::string &path, std::vector<StepMetrics> &rows, std::string &error);
bool writeStepsCsv(const std::string &path, const std::vector<StepMetrics> &rows,
                   std::string &error);
/// Three panels against the epoch, as SVG: the loss (each step's, thin; each
/// epoch's training and test loss, with markers), the accuracy (training and
/// test), and the learning rate. `evaluatedOn` names the epochs' test set
/// in the legends ("test", or "validation" for held-out training images).
bool writeCurvesSvg(const std::string &path, const std::vector<EpochMetrics> &rows,
                    const std::vector<StepMetrics> &steps, const std::string &title,
                    std::string &error, const std::string &evaluatedOn = "test");

} // namespace resnetc::train

#endif // RESNETC_TRAIN_METRICSLOG_H
