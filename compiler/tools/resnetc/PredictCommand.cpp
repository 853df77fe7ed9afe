//===- PredictCommand.cpp - resnetc predict: classify image files ---------===//
//
//   resnetc predict runs/r20/final.rnw --model examples/models/resnet20_fmnist.rn
//       shirt.png boot.jpg [--top 5]
//
// Each image (PNG, JPEG, PGM or PPM) is brought to the network's input
// (channels, bilinear resize; resize and centre crop for ImageNet-size
// networks), normalised as the network was trained, and classified; one line
// an image: its top classes with names and softmax probabilities.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "RunnableModel.h"

#include "resnetc/images/Image.h"
#include "resnetc/train/DataSource.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace llvm;
using namespace resnetc;

namespace {

cl::SubCommand subCommand("predict",
                          "Classify image files (PNG, JPEG, PGM, PPM) with trained weights");
tool::RunOptions runOptions(subCommand);
cl::list<std::string> imageFiles(cl::Positional, cl::desc("<image...>"), cl::sub(subCommand));
cl::opt<int64_t> top("top", cl::desc("Classes to print per image (default 5)"), cl::init(5),
                     cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<std::string> statisticsData(
    "data",
    cl::desc("For weights that record no input normalisation: normalise by the statistics of "
             "this training set (KIND:PATH), as resnetc train did"),
    cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<bool> noNormalize("no-normalize",
                          cl::desc("For weights that record no input normalisation: feed the "
                                   "pixels in [0, 1] as they are"),
                          cl::sub(subCommand), cl::cat(tool::optionCategory()));

/// How the images are normalised; false (error printed) when it is unknown.
bool chooseNormalization(const tool::RunnableModel &model, data::Normalization &out,
                         bool &normalize) {
  normalize = true;
  if (model.recordedNormalization(out))
    return true;
  // Without the trained statistics the predictions look plausible and are
  // mostly wrong (issue 18: 18/200 right instead of 167/200), so rather than
  // warn and print them, ask the user where the statistics are.
  if (!statisticsData.empty()) {
    std::string error;
    train::TrainingData data;
    if (!train::loadDataSource(statisticsData, model.channels(), model.height(), model.width(),
                               model.classes(), data, error)) {
      tool::fail(error);
      return false;
    }
    out = data::channelStatistics(data.train);
    errs() << "resnetc: note: normalising by the statistics of the " << statisticsData
           << " training set\n";
    return true;
  }
  if (noNormalize) {
    normalize = false;
    return true;
  }
  tool::fail(runOptions.weights +
             " records no input normalisation (it was written by resnetc init or compile, "
             "imported without --normalize, or by an older resnetc): pass --data KIND:PATH to "
             "normalise by the training set's statistics, or --no-normalize to feed pixels in "
             "[0, 1]");
  return false;
}

void printTop(StringRef name, const float *logits, const tool::RunnableModel &model) {
  const int64_t classes = model.classes();
  float largest = *std::max_element(logits, logits + classes);
  std::vector<double> probability(static_cast<size_t>(classes));
  double sum = 0;
  for (int64_t k = 0; k < classes; ++k)
    sum += probability[size_t(k)] = std::exp(double(logits[k] - largest));
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  const int64_t shown = std::min<int64_t>(top, classes);
  std::partial_sort(order.begin(), order.begin() + shown, order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  outs() << name << ":";
  for (int64_t i = 0; i < shown; ++i)
    outs() << formatv("{0} {1} {2:F1}%", i ? "," : "", model.classLabel(order[size_t(i)]),
                      100 * probability[size_t(order[size_t(i)])] / sum);
  outs() << "\n";
}

int run(mlir::MLIRContext &context) {
  if (top < 1)
    return tool::fail("--top must be at least 1, got " + Twine(top.getValue()));
  if (!statisticsData.empty() && noNormalize)
    return tool::fail("--data and --no-normalize exclude each other");
  tool::RunnableModel model(context);
  if (!model.open(runOptions))
    return 1;
  if (imageFiles.empty())
    return tool::fail("no images given: resnetc predict " + runOptions.weights + " --model " +
                      runOptions.model + " <image...>");
  if (top > model.classes())
    return tool::fail("--top must be at most " + Twine(model.classes()) +
                      ", the network's classes, got " + Twine(top.getValue()));
  // Every image is read before the library is built or loaded: a bad file
  // costs no compilation.
  data::Dataset inputs;
  inputs.channels = model.channels();
  inputs.height = model.height();
  inputs.width = model.width();
  for (const std::string &path : imageFiles) {
    images::Image image, input;
    std::string error;
    if (!images::readImage(path, image, error))
      return tool::fail(error);
    if (!images::toNetworkInput(image, inputs.channels, inputs.height, inputs.width, input, error))
      return tool::fail(path + ": " + error);
    inputs.images.insert(inputs.images.end(), input.values.begin(), input.values.end());
    inputs.labels.push_back(0);
  }
  data::Normalization normalization;
  bool normalize = true;
  if (!chooseNormalization(model, normalization, normalize))
    return 1;
  if (normalize)
    data::normalize(inputs, normalization);

  if (!model.start())
    return 1;
  const int64_t batch = model.batch(), values = inputs.imageValues();
  std::vector<float> batchInput(size_t(batch * values)), logits;
  for (int64_t first = 0; first < inputs.size(); first += batch) {
    const int64_t count = std::min(batch, inputs.size() - first);
    std::fill(batchInput.begin(), batchInput.end(), 0.0f); // a last partial batch is padded
    std::copy_n(&inputs.images[size_t(first * values)], count * values, batchInput.begin());
    if (!model.run(batchInput, logits))
      return 1;
    for (int64_t i = 0; i < count; ++i)
      printTop(imageFiles[size_t(first + i)], &logits[size_t(i * model.classes())], model);
  }
  return 0;
}

} // namespace

tool::Command tool::predictCommand{subCommand, run};
