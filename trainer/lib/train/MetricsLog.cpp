//===- MetricsLog.cpp - metrics.csv of a training run ---------------------===//

#include "resnetc/train/MetricsLog.h"
#include "resnetc/runtime/AtomicFile.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace resnetc::train;

namespace {
constexpr const char *kHeader = "epoch,steps,learning_rate,train_loss,train_accuracy,"
                                "test_accuracy,seconds,images_per_second,test_loss";
/// The header of files written before test_loss was recorded.
constexpr const char *kHeaderWithoutTestLoss =
    "epoch,steps,learning_rate,train_loss,train_accuracy,test_accuracy,seconds,images_per_second";
constexpr const char *kStepsHeader = "step,epoch,learning_rate,train_loss";
} // namespace

bool resnetc::train::readMetricsCsv(const std::string &path, std::vector<EpochMetrics> &rows,
                                    std::string &error) {
  rows.clear();
  std::ifstream in(path);
  if (!in)
    return true;
  std::string line;
  bool hasTestLoss = false;
  if (!std::getline(in, line) ||
      !((hasTestLoss = line == kHeader) || line == kHeaderWithoutTestLoss)) {
    error = path + ": not a metrics file written by resnetc (unexpected header)";
    return false;
  }
  const int columns = hasTestLoss ? 9 : 8;
  for (int number = 2; std::getline(in, line); ++number) {
    EpochMetrics m;
    m.testLoss = NAN;
    long long steps = 0;
    char tail = 0;
    if (std::sscanf(line.c_str(), "%d,%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf%c", &m.epoch, &steps,
                    &m.learningRate, &m.trainLoss, &m.trainAccuracy, &m.testAccuracy, &m.seconds,
                    &m.imagesPerSecond, &m.testLoss, &tail) != columns) {
      error = path + ":" + std::to_string(number) + ": not a row of " + std::to_string(columns) +
              " numbers";
      return false;
    }
    m.steps = steps;
    rows.push_back(m);
  }
  return true;
}

bool resnetc::train::writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &rows,
                                     std::string &error) {
  std::ostringstream out;
  out << kHeader << "\n";
  char line[512];
  for (const EpochMetrics &m : rows) {
    std::snprintf(line, sizeof(line), "%d,%lld,%.8g,%.8g,%.8g,%.8g,%.4f,%.2f,%.8g\n", m.epoch,
                  static_cast<long long>(m.steps), m.learningRate, m.trainLoss, m.trainAccuracy,
                  m.testAccuracy, m.seconds, m.imagesPerSecond, m.testLoss);
    out << line;
  }
  std::string text = out.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}

bool resnetc::train::readStepsCsv(const std::string &path, std::vector<StepMetrics> &rows,
                                  std::string &error) {
  rows.clear();
  std::ifstream in(path);
  if (!in)
    return true;
  std::string line;
  if (!std::getline(in, line) || line != kStepsHeader) {
    error = path + ": not a steps file written by resnetc (unexpected header)";
    return false;
  }
  for (int number = 2; std::getline(in, line); ++number) {
    StepMetrics m;
    long long step = 0;
    char tail = 0;
    if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf%c", &step, &m.epoch, &m.learningRate, &m.loss,
                    &tail) != 4) {
      error = path + ":" + std::to_string(number) + ": not a row of four numbers";
      return false;
    }
    m.step = step;
    rows.push_back(m);
  }
  return true;
}

bool resnetc::train::writeStepsCsv(const std::string &path, const std::vector<StepMetrics> &rows,
                                   std::string &error) {
  std::ostringstream out;
  out << kStepsHeader << "\n";
  char line[160];
  for (const StepMetrics &m : rows) {
    std::snprintf(line, sizeof(line), "%lld,%.8g,%.8g,%.8g\n", static_cast<long long>(m.step),
                  m.epoch, m.learningRate, m.loss);
    out << line;
  }
  std::string text = out.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}
