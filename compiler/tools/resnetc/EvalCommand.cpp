//===- EvalCommand.cpp - resnetc eval: test accuracy of trained weights ---===//
//
//   resnetc eval runs/r20/final.rnw --model examples/models/resnet20_fmnist.rn
//       --data fashion-mnist:/usr/share/datasets/fashion-mnist [--ten-crop]
//       [--test-images N] [--threads T]
//
// The test set, normalised as in training, through the compiled inference
// library: the accuracy `resnetc train` prints at the end of a run.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "RunnableModel.h"

#include "resnetc/train/DataSource.h"
#include "resnetc/train/Evaluation.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

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

int run(mlir::MLIRContext &context) {
  if (testImages.getNumOccurrences() && testImages <= 0)
    return tool::fail("--test-images must be positive, got " + Twine(testImages.getValue()) +
                      " (leave it out to test on every image)");
  if (pad < 0 || pad > 64)
    return tool::fail("--pad must be between 0 and 64, got " + Twine(pad.getValue()));
  std::string error;
  if (!train::checkDataSource(dataSpec, error))
    return tool::fail(error);
  tool::RunnableModel model(context);
  if (!model.open(runOptions))
    return 1;

  train::TrainingData data;
  if (!train::loadDataSource(dataSpec, model.channels(), model.height(), model.width(),
                             model.classes(), data, error))
    return tool::fail(error);
  data::Dataset &test = data.test;
  if (testImages > 0 && testImages < test.size()) {
    test.labels.resize(size_t(testImages.getValue()));
    test.images.resize(size_t(testImages * test.imageValues()));
  }
  if (test.classes > model.classes())
    return tool::fail("the data has " + Twine(test.classes) + " classes, the network " +
                      Twine(model.classes()));
  data::Normalization normalization;
  if (!model.recordedNormalization(normalization)) {
    // Files from before the weights carried it: resnetc train normalised by
    // the training set's statistics, so the same statistics reproduce it.
    normalization = data::channelStatistics(data.train);
    errs() << "resnetc: note: " << runOptions.weights
           << " records no input normalisation; using the statistics of the " << dataSpec
           << " training set, as resnetc train does\n";
  }
  data::normalize(test, normalization);

  if (!model.start())
    return 1;
  double accuracy = 0;
  if (!train::evaluate(model.api(), model.context(), test, tenCrop, pad, accuracy, error))
    return tool::fail(error);
  outs() << formatv("test accuracy {0:F2}% ({1}{2} of {3} images)\n", 100 * accuracy,
                    tenCrop ? "ten-crop, " : "", std::llround(accuracy * double(test.size())),
                    test.size());
  return 0;
}

} // namespace

tool::Command tool::evalCommand{subCommand, run};
