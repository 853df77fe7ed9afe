//===- EvalCommand.cpp - resnetc eval: test accuracy of trained weights ---===//
//
//   resnetc eval runs/r20/final.rnw --model examples/models/resnet20_fmnist.rn
//       --data fashion-mnist:/usr/share/datasets/fashion-mnist [--ten-crop]
//       [--scales 28,32,36] [--test-images N] [--threads T]
//   resnetc eval --ensemble runs/r20/final.rnw:resnet20_fmnist.rn,runs/r56/final.rnw:... ...
//
// The test set, normalised as in training, through the compiled inference
// library: the accuracy `resnetc train` prints at the end of a run. Several
// scales (the network compiled at each input size, on the same weights) and
// several networks (an ensemble) average their class probabilities, as the
// paper's multi-scale testing and ensembles do.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "RunnableModel.h"

#include "resnetc/images/Image.h"
#include "resnetc/train/DataSource.h"
#include "resnetc/train/Evaluation.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <memory>

using namespace llvm;
using namespace resnetc;

namespace {

cl::SubCommand subCommand("eval", "Test trained weights (.rnw) on a data set's test images");
tool::RunOptions runOptions(subCommand);
cl::opt<std::string> dataSpec("data",
                              cl::desc("Data set as KIND:PATH, KIND one of fashion-mnist, mnist, "
                                       "cifar10, cifar100, raw (default "
                                       "fashion-mnist:/usr/share/datasets/fashion-mnist)"),
                              cl::init("fashion-mnist:/usr/share/datasets/fashion-mnist"),
                              cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<int64_t> testImages("test-images",
                            cl::desc("Test on the first N images only (default: all)"),
                            cl::init(-1), cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<bool> tenCrop("ten-crop",
                      cl::desc("Score each image by the mean softmax of ten crops (of the "
                               "image padded by --pad when it is the network's size)"),
                      cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<int64_t> pad("pad", cl::desc("Zeros around each image for --ten-crop (default 4)"),
                     cl::init(4), cl::sub(subCommand), cl::cat(tool::optionCategory()));

cl::list<int64_t> scales("scales",
                         cl::desc("Test at each of these input sizes (the shorter side, e.g. "
                                  "28,32,36) and average the class probabilities"),
                         cl::CommaSeparated, cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::list<std::string>
    ensemble("ensemble",
             cl::desc("Average the class probabilities of several trained networks, each "
                      "given as WEIGHTS.rnw:MODEL.rn, instead of <weights.rnw> --model"),
             cl::value_desc("w.rnw:m.rn,..."), cl::CommaSeparated, cl::sub(subCommand),
             cl::cat(tool::optionCategory()));

/// One network of the evaluation: its weights and its .rn file.
struct Member {
  std::string weights, model;
};

/// The members given on the command line; errors are printed.
bool readMembers(std::vector<Member> &members) {
  if (ensemble.empty()) {
    members.push_back({runOptions.weights, runOptions.model});
    return true;
  }
  if (!runOptions.weights.empty() || !runOptions.model.empty()) {
    tool::fail("give either <weights.rnw> --model <model.rn> or --ensemble, not both");
    return false;
  }
  for (const std::string &item : ensemble) {
    auto [weights, model] = StringRef(item).rsplit(':');
    if (weights.empty() || model.empty()) {
      tool::fail("--ensemble takes WEIGHTS.rnw:MODEL.rn items, got '" + item + "'");
      return false;
    }
    members.push_back({weights.str(), model.str()});
  }
  return true;
}

/// `test` with every image resized (bilinear) to height x width.
data::Dataset resized(const data::Dataset &test, int64_t height, int64_t width) {
  if (test.height == height && test.width == width)
    return test;
  data::Dataset out = test;
  out.height = height;
  out.width = width;
  out.images.resize(size_t(test.size() * out.imageValues()));
  images::Image image;
  image.channels = test.channels;
  image.height = test.height;
  image.width = test.width;
  for (int64_t i = 0; i < test.size(); ++i) {
    const float *first = &test.images[size_t(i * test.imageValues())];
    image.values.assign(first, first + test.imageValues());
    images::Image scaled = images::resizeBilinear(image, height, width);
    std::copy(scaled.values.begin(), scaled.values.end(),
              out.images.begin() + i * out.imageValues());
  }
  return out;
}

/// Normalises `test` as `model`'s weights record (else as training did).
void normalizeFor(const tool::RunnableModel &model, const data::Dataset &train,
                  data::Dataset &test) {
  data::Normalization normalization;
  if (!model.recordedNormalization(normalization)) {
    // Files from before the weights carried it: resnetc train normalised by
    // the training set's statistics, so the same statistics reproduce it.
    normalization = data::channelStatistics(train);
    errs() << "resnetc: note: " << model.weightsPath()
           << " records no input normalisation; using the statistics of the " << dataSpec
           << " training set, as resnetc train does\n";
  }
  data::normalize(test, normalization);
}

int run(mlir::MLIRContext &context) {
  if (testImages.getNumOccurrences() && testImages <= 0)
    return tool::fail("--test-images must be positive, got " + Twine(testImages.getValue()) +
                      " (leave it out to test on every image)");
  if (pad < 0 || pad > 64)
    return tool::fail("--pad must be between 0 and 64, got " + Twine(pad.getValue()));
  for (int64_t scale : scales)
    if (scale < 1 || scale > 4096)
      return tool::fail("--scales are input sizes between 1 and 4096, got " + Twine(scale));
  std::vector<Member> members;
  if (!readMembers(members))
    return 1;
  std::string error;
  if (!train::checkDataSource(dataSpec, error))
    return tool::fail(error);
  // Every network is checked against its weights, and against the first,
  // before anything is compiled or the data read.
  std::vector<std::unique_ptr<tool::RunnableModel>> opened;
  for (const Member &member : members) {
    opened.push_back(std::make_unique<tool::RunnableModel>(context));
    tool::RunnableModel &model = *opened.back();
    if (!model.open(runOptions, member.weights, member.model, {}))
      return 1;
    const tool::RunnableModel &first = *opened.front();
    if (model.channels() != first.channels() || model.height() != first.height() ||
        model.width() != first.width() || model.classes() != first.classes())
      return tool::fail(formatv("{0} takes {1}x{2}x{3} inputs and {4} classes, {5} {6}x{7}x{8} "
                                "and {9}: an ensemble's networks score the same images",
                                member.model, model.channels(), model.height(), model.width(),
                                model.classes(), members.front().model, first.channels(),
                                first.height(), first.width(), first.classes())
                            .str());
  }
  const tool::RunnableModel &first = *opened.front();
  const int64_t classes = first.classes();

  train::TrainingData data;
  if (!train::loadDataSource(dataSpec, first.channels(), first.height(), first.width(), classes,
                             data, error))
    return tool::fail(error);
  data::Dataset &test = data.test;
  if (testImages > 0 && testImages < test.size()) {
    test.labels.resize(size_t(testImages.getValue()));
    test.images.resize(size_t(testImages * test.imageValues()));
  }
  if (test.classes > classes)
    return tool::fail("the data has " + Twine(test.classes) + " classes, the network " +
                      Twine(classes));

  std::vector<int64_t> sizes(scales.begin(), scales.end());
  if (sizes.empty())
    sizes.push_back(0); // the network's own input
  const bool combined = members.size() * sizes.size() > 1;
  std::vector<double> sum(size_t(test.size() * classes), 0.0), probabilities;
  for (size_t m = 0; m < members.size(); ++m) {
    data::Dataset normalized = test;
    normalizeFor(*opened[m], data.train, normalized);
    for (int64_t size : sizes) {
      tool::RunnableModel model(context);
      tool::RunnableModel::Variant variant;
      variant.scale = size;
      if (!model.open(runOptions, members[m].weights, members[m].model, variant) || !model.start())
        return 1;
      // Bilinear resizing commutes with the per-channel normalisation.
      data::Dataset images = resized(normalized, model.height(), model.width());
      if (!train::scoreImages(model.api(), model.context(), images, tenCrop, pad, probabilities,
                              error))
        return tool::fail(error);
      for (size_t j = 0; j < sum.size(); ++j)
        sum[j] += probabilities[j];
      if (combined) {
        double accuracy = 0;
        train::scoreAccuracy(probabilities, test.labels, classes, accuracy);
        outs() << formatv("{0} at {1}x{2}: {3:F2}%\n", members[m].weights, model.height(),
                          model.width(), 100 * accuracy);
      }
    }
    opened[m].reset();
  }
  const double parts = double(members.size() * sizes.size());
  for (double &value : sum)
    value /= parts;
  double accuracy = 0;
  train::scoreAccuracy(sum, test.labels, classes, accuracy);
  std::string how;
  if (members.size() > 1)
    how += formatv("ensemble of {0}, ", members.size()).str();
  if (sizes.size() > 1)
    how += formatv("{0} scales, ", sizes.size()).str();
  if (tenCrop)
    how += "ten-crop, ";
  outs() << formatv("test accuracy {0:F2}% ({1}{2} of {3} images)\n", 100 * accuracy, how,
                    std::llround(accuracy * double(test.size())), test.size());
  return 0;
}

} // namespace

tool::Command tool::evalCommand{subCommand, run};
