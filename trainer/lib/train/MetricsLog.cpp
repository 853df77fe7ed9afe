//===- MetricsLog.cpp - metrics.csv of a training run ---------------------===//

#include "resnetc/train/MetricsLog.h"
#include "resnetc/runtime/AtomicFile.h"

using resnetc::writeFileAtomically;

#include <algorithm>
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
/// The header of a run with --validation: its epochs test on the held-out images.
constexpr const char *kValidationHeader =
    "epoch,steps,learning_rate,train_loss,train_accuracy,validation_accuracy,seconds,"
    "images_per_second,validation_loss";
constexpr const char *kStepsHeader = "step,epoch,learning_rate,train_loss";
} // namespace

namespace {

/// Reads a CSV file of ours: its header must be one of `headers`; `parse`
/// reads a row given the header's index and says how many numbers a row
/// of that header has, through `columns`. A missing file is empty.
template <typename Row, typename Parse>
bool readCsv(const std::string &path, const char *kind, std::vector<const char *> headers,
             std::vector<Row> &rows, std::string &error, Parse parse) {
  rows.clear();
  std::ifstream in(path);
  if (!in)
    return true;
  std::string line;
  size_t header = headers.size();
  if (std::getline(in, line))
    header = size_t(std::find(headers.begin(), headers.end(), line) - headers.begin());
  if (header == headers.size()) {
    error = path + ": not a " + kind + " file written by resnetc (unexpected header)";
    return false;
  }
  for (int number = 2; std::getline(in, line); ++number) {
    Row row;
    int columns = 0;
    if (!parse(line, header, row, columns)) {
      error = path + ":" + std::to_string(number) + ": not a row of " + std::to_string(columns) +
              " numbers";
      return false;
    }
    rows.push_back(row);
  }
  return true;
}

/// Writes `header` and a line per row (`format` prints one), atomically.
template <typename Row, typename Format>
bool writeCsv(const std::string &path, const char *header, const std::vector<Row> &rows,
              std::string &error, Format format) {
  std::ostringstream out;
  out << header << "\n";
  char line[512];
  for (const Row &row : rows) {
    format(row, line, sizeof(line));
    out << line;
  }
  std::string text = out.str();
  return writeFileAtomically(path, text.data(), text.size(), error);
}

} // namespace

bool resnetc::train::readMetricsCsv(const std::string &path, std::vector<EpochMetrics> &rows,
                                    std::string &error) {
  return readCsv(path, "metrics", {kHeader, kHeaderWithoutTestLoss, kValidationHeader}, rows, error,
                 [](const std::string &line, size_t header, EpochMetrics &m, int &columns) {
                   columns = header == 1 ? 8 : 9;
                   m.testLoss = NAN;
                   long long steps = 0;
                   char tail = 0;
                   int read = std::sscanf(line.c_str(), "%d,%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf%c",
                                          &m.epoch, &steps, &m.learningRate, &m.trainLoss,
                                          &m.trainAccuracy, &m.testAccuracy, &m.seconds,
                                          &m.imagesPerSecond, &m.testLoss, &tail);
                   m.steps = steps;
                   return read == columns;
                 });
}

bool resnetc::train::writeMetricsCsv(const std::string &path, const std::vector<EpochMetrics> &rows,
                                     std::string &error, bool validation) {
  return writeCsv(path, validation ? kValidationHeader : kHeader, rows, error,
                  [](const EpochMetrics &m, char *line, size_t size) {
                    std::snprintf(line, size, "%d,%lld,%.8g,%.8g,%.8g,%.8g,%.4f,%.2f,%.8g\n",
                                  m.epoch, static_cast<long long>(m.steps), m.learningRate,
                                  m.trainLoss, m.trainAccuracy, m.testAccuracy, m.seconds,
                                  m.imagesPerSecond, m.testLoss);
                  });
}

bool resnetc::train::readStepsCsv(const std::string &path, std::vector<StepMetrics> &rows,
                                  std::string &error) {
  return readCsv(path, "steps", {kStepsHeader}, rows, error,
                 [](const std::string &line, size_t, StepMetrics &m, int &columns) {
                   columns = 4;
                   long long step = 0;
                   char tail = 0;
                   int read = std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf%c", &step, &m.epoch,
                                          &m.learningRate, &m.loss, &tail);
                   m.step = step;
                   return read == columns;
                 });
}

bool resnetc::train::writeStepsCsv(const std::string &path, const std::vector<StepMetrics> &rows,
                                   std::string &error) {
  return writeCsv(path, kStepsHeader, rows, error,
                  [](const StepMetrics &m, char *line, size_t size) {
                    std::snprintf(line, size, "%lld,%.8g,%.8g,%.8g\n",
                                  static_cast<long long>(m.step), m.epoch, m.learningRate, m.loss);
                  });
}
