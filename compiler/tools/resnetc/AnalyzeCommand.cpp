//===- AnalyzeCommand.cpp - resnetc analyze responses: Fig. 7's numbers ---===//
//
//   resnetc analyze responses runs/plain56/final.rnw
//       --model examples/models/plain56_fmnist.rn --data fashion-mnist:DIR
//       -o responses.csv [--channels-output channels.csv] [--test-images N]
//       [--reference]
//
// The standard deviation of each 3x3 layer's response (its batch norm's
// output, before the ReLU or the addition) over the test set, as He et al.'s
// Fig. 7 plots it. The network is compiled with the responses as its outputs
// (rn-probe-responses), so the numbers are those of the compiled code;
// --reference computes them with the reference executor instead, to check.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "RunnableModel.h"

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Reference/ReferenceExecutor.h"
#include "resnetc/runtime/AtomicFile.h"
#include "resnetc/train/DataSource.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace llvm;
using namespace resnetc;

namespace {

cl::SubCommand subCommand("analyze",
                          "Statistics of trained weights' layers on a data set's test images "
                          "(responses: the std of each 3x3 layer's output, the paper's Fig. 7)");
// Declared before RunOptions: positionals are filled in the order they are made.
cl::opt<std::string> analysis(cl::Positional, cl::desc("<analysis: responses>"),
                              cl::sub(subCommand));
tool::RunOptions runOptions(subCommand);
cl::opt<std::string> dataSpec("data",
                              cl::desc("Data set as KIND:PATH (default "
                                       "fashion-mnist:/usr/share/datasets/fashion-mnist)"),
                              cl::init("fashion-mnist:/usr/share/datasets/fashion-mnist"),
                              cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<int64_t> testImages("test-images",
                            cl::desc("Use the first N test images only (default: all)"),
                            cl::init(-1), cl::sub(subCommand), cl::cat(tool::optionCategory()));
cl::opt<std::string> output("o", cl::desc("The CSV of one row per layer (required)"),
                            cl::value_desc("responses.csv"), cl::sub(subCommand),
                            cl::cat(tool::optionCategory()));
cl::opt<std::string> channelsOutput("channels-output",
                                    cl::desc("Also write a CSV of one row per layer and channel"),
                                    cl::value_desc("channels.csv"), cl::sub(subCommand),
                                    cl::cat(tool::optionCategory()));
cl::opt<bool> reference("reference",
                        cl::desc("Compute the responses with the reference executor (plain "
                                 "loops, double precision; slow) instead of compiling them"),
                        cl::sub(subCommand), cl::cat(tool::optionCategory()));

/// Seven significant digits: more than float responses carry.
std::string number(double value) { return formatv("{0}", format("%.7g", value)).str(); }

/// Sums of one channel's values, shifted by its first value so that the
/// variance keeps its digits when the mean is large.
struct Moments {
  double shift = 0, sum = 0, sumSquares = 0;
  int64_t count = 0;

  void add(const float *values, int64_t n) {
    if (count == 0 && n > 0)
      shift = values[0];
    for (int64_t i = 0; i < n; ++i) {
      double d = double(values[i]) - shift;
      sum += d;
      sumSquares += d * d;
    }
    count += n;
  }
  double mean() const { return shift + sum / double(count); }
  double variance() const {
    double m = sum / double(count);
    return std::max(0.0, sumSquares / double(count) - m * m);
  }
};

/// Each layer's channels' moments, filled batch by batch.
class ResponseStatistics {
public:
  explicit ResponseStatistics(const std::vector<tool::RunnableModel::Output> &outputs)
      : outputs(outputs) {
    for (const auto &output : outputs)
      moments.emplace_back(size_t(output.channels));
  }

  /// `values`: every output for a batch of `batch` images, one after another
  /// (N x C x H x W each); the first `images` of them count.
  void add(const float *values, int64_t batch, int64_t images) {
    for (size_t k = 0; k < outputs.size(); ++k) {
      const auto &o = outputs[k];
      const int64_t plane = o.height * o.width;
      for (int64_t n = 0; n < images; ++n)
        for (int64_t c = 0; c < o.channels; ++c)
          moments[k][size_t(c)].add(values + (n * o.channels + c) * plane, plane);
      values += batch * o.channels * plane;
    }
  }

  std::string layersCsv() const {
    std::string text = "index,layer,channels,height,width,mean,std,mean_channel_std\n";
    for (size_t k = 0; k < outputs.size(); ++k) {
      // The layer's std pools every channel: E[x^2] - E[x]^2 over all of them.
      double mean = 0, meanSquare = 0, channelStd = 0;
      for (const Moments &m : moments[k]) {
        mean += m.mean();
        meanSquare += m.variance() + m.mean() * m.mean();
        channelStd += std::sqrt(m.variance());
      }
      const double channels = double(moments[k].size());
      mean /= channels;
      meanSquare /= channels;
      const auto &o = outputs[k];
      text +=
          formatv("{0},{1},{2},{3},{4},{5},{6},{7}\n", k + 1, o.name, o.channels, o.height, o.width,
                  number(mean), number(std::sqrt(std::max(0.0, meanSquare - mean * mean))),
                  number(channelStd / channels))
              .str();
    }
    return text;
  }

  std::string channelsCsv() const {
    std::string text = "index,layer,channel,mean,std\n";
    for (size_t k = 0; k < outputs.size(); ++k)
      for (size_t c = 0; c < moments[k].size(); ++c)
        text += formatv("{0},{1},{2},{3},{4}\n", k + 1, outputs[k].name, c,
                        number(moments[k][c].mean()), number(std::sqrt(moments[k][c].variance())))
                    .str();
    return text;
  }

private:
  std::vector<tool::RunnableModel::Output> outputs;
  std::vector<std::vector<Moments>> moments;
};

/// Runs `batchImages` through the reference executor; `values` gets the
/// outputs laid out as the compiled library writes them.
bool runReference(mlir::func::FuncOp forward, reference::WeightMap &weights,
                  const tool::RunnableModel &model, const std::vector<float> &batchImages,
                  std::vector<float> &values) {
  std::vector<reference::Tensor> outputs;
  std::string error;
  reference::RunOptions options;
  if (!reference::run(
          forward,
          {reference::Tensor({model.batch(), model.channels(), model.height(), model.width()},
                             batchImages)},
          weights, options, outputs, error)) {
    tool::fail("the reference executor: " + error);
    return false;
  }
  values.clear();
  for (const reference::Tensor &tensor : outputs)
    values.insert(values.end(), tensor.data.begin(), tensor.data.end());
  return true;
}

int run(mlir::MLIRContext &context) {
  if (analysis != "responses")
    return tool::fail(analysis.empty()
                          ? Twine("say what to analyze: resnetc analyze responses <weights.rnw> "
                                  "--model <model.rn> -o responses.csv")
                          : "unknown analysis '" + analysis + "': the one there is is 'responses'");
  if (output.empty())
    return tool::fail("-o is required: the CSV file to write");
  // Said now, not after the whole test set has run.
  for (const std::string *path : {&output.getValue(), &channelsOutput.getValue()}) {
    StringRef folder = sys::path::parent_path(*path);
    if (!folder.empty() && !sys::fs::is_directory(folder))
      return tool::fail("the folder of " + *path + " does not exist");
  }
  if (testImages.getNumOccurrences() && testImages <= 0)
    return tool::fail("--test-images must be positive, got " + Twine(testImages.getValue()) +
                      " (leave it out to use every image)");
  std::string error;
  if (!train::checkDataSource(dataSpec, error))
    return tool::fail(error);
  tool::RunnableModel model(context);
  tool::RunnableModel::Variant variant;
  variant.probeResponses = true;
  if (!model.open(runOptions, runOptions.weights, runOptions.model, variant))
    return 1;

  train::TrainingData data;
  if (!train::loadDataSource(dataSpec, model.channels(), model.height(), model.width(),
                             model.trainedClasses(), data, error))
    return tool::fail(error);
  data::Dataset &test = data.test;
  if (testImages > 0 && testImages < test.size()) {
    test.labels.resize(size_t(testImages.getValue()));
    test.images.resize(size_t(testImages * test.imageValues()));
  }
  if (test.channels != model.channels() || test.height != model.height() ||
      test.width != model.width())
    return tool::fail(formatv("the test images are {0}x{1}x{2}, the network takes {3}x{4}x{5}",
                              test.channels, test.height, test.width, model.channels(),
                              model.height(), model.width())
                          .str());
  data::Normalization normalization;
  if (!model.recordedNormalization(normalization))
    normalization = data::channelStatistics(data.train); // as resnetc train normalised
  data::normalize(test, normalization);

  mlir::OwningOpRef<mlir::ModuleOp> expanded;
  mlir::func::FuncOp forward;
  reference::WeightMap weights;
  if (reference) {
    expanded = model.module().clone();
    if (failed(expandModel(*expanded)))
      return 1;
    forward = expanded->lookupSymbol<mlir::func::FuncOp>(rn::kForwardFunction);
    weights = reference::toWeightMap(model.weights());
  } else if (!model.start()) {
    return 1;
  }

  ResponseStatistics statistics(model.outputs());
  const int64_t batch = model.batch(), values = test.imageValues();
  std::vector<float> input(size_t(batch * values)), responses;
  for (int64_t first = 0; first < test.size(); first += batch) {
    int64_t images = std::min(batch, test.size() - first);
    std::fill(input.begin(), input.end(), 0.0f); // a last partial batch is padded
    std::memcpy(input.data(), &test.images[size_t(first * values)],
                size_t(images * values) * sizeof(float));
    if (reference ? !runReference(forward, weights, model, input, responses)
                  : !model.run(input, responses))
      return 1;
    statistics.add(responses.data(), batch, images);
  }

  std::string csv = statistics.layersCsv();
  if (!writeFileAtomically(output, csv.data(), csv.size(), error))
    return tool::fail(error);
  if (!channelsOutput.empty()) {
    std::string channels = statistics.channelsCsv();
    if (!writeFileAtomically(channelsOutput, channels.data(), channels.size(), error))
      return tool::fail(error);
  }
  outs() << formatv("wrote {0}: the responses of {1} layers over {2} test images{3}\n", output,
                    model.outputs().size(), test.size(), reference ? " (reference executor)" : "");
  return 0;
}

} // namespace

tool::Command tool::analyzeCommand{subCommand, run};
