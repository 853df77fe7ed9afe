//===- MetricsLog.cpp - metrics.csv of a training run ---------------------===//

#include "resnetc/train/MetricsLog.h"
#include "resnetc/runtime/AtomicFile.h"

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace resnetc::train;

namespace {
constexpr const char *kHeader =
    "epoch,steps,learning_rate,train_loss,train_accuracy,test_accuracy,seconds,images_per_second";
} // namespace

bool resnetc::train::readMetricsCsv(const std::string &path, std::vector<EpochMetrics> &rows,
                                    std::string &error) {
  rows.clear();
  std::ifstream in(path);
  if (!in)
    return true;
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    error = path + ": not a metrics file written by resnetc (unexpected header)";
    return false;
  }
  for (int number = 2; std::getline(in, line); ++number) {
    EpochMetrics m;
    long long steps = 0;
    char tail = 0;
    if (std::sscanf(line.c_str(), "%d,%lld,%lf,%lf,%lf,%lf,%lf,%lf%c", &m.epoch, &steps,
                    &m.learningRate, &m.trainLoss, &m.trainAccuracy, &m.testAccuracy, &m.seconds,
                    &m.imagesPerSecond, &tail) != 8) {
      error = path + ":" + std::to_string(number) + ": not a row of eight numbers";
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
    std::snprintf(line, sizeof(line), "%d,%lld,%.8g,%.8g,%.8g,%.8g,%.4f,%.2f\n", m.epoch,
                  static_cast<long long>(m.steps), m.learningRate, m.trainLoss, m.trainAccuracy,
                  m.testAccuracy, m.seconds, m.imagesPerSecond);
    out << line;
  }
  std::string text = out.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}
