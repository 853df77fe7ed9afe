//===- ReferenceSteps.cpp - SGD steps of the reference executor ------------===//
//
//   resnetc-reference-steps --model m.rn --weights init.rnw --data KIND:DIR
//       --batch B --train-images N --seed S --steps K --lr LR -o out.rnw
//
// The data-parallel tests' oracle: K steps of SGD computed by the reference
// executor in double precision (no Halide, no MPI), on the batches `resnetc
// train` draws with the same data, seed and global batch (no augmentation,
// a constant learning rate). Writes the weights, running statistics and
// momentum buffers under the names of a checkpoint.
//
//===----------------------------------------------------------------------===//

#include "ModelTestSupport.h"

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/data/Datasets.h"
#include "resnetc/train/DataSource.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <iterator>

using namespace llvm;
using namespace resnetc;

static cl::opt<std::string> modelPath("model", cl::desc("The .rn model"), cl::Required);
static cl::opt<std::string> weightsPath("weights", cl::desc("The initial weights"), cl::Required);
static cl::opt<std::string> dataSpec("data", cl::desc("KIND:DIR"), cl::Required);
static cl::opt<int64_t> batch("batch", cl::desc("The global batch"), cl::Required);
static cl::opt<int64_t> trainImages("train-images", cl::desc("Use the first N"), cl::init(0));
static cl::opt<uint64_t> seed("seed", cl::desc("The batches' seed"), cl::init(1));
static cl::opt<int> steps("steps", cl::desc("SGD steps"), cl::init(1));
static cl::opt<double> learningRate("lr", cl::desc("Constant learning rate"), cl::init(0.1));
static cl::opt<std::string> output("o", cl::desc("The .rnw to write"), cl::Required);

static int fail(const std::string &message) {
  errs() << "resnetc-reference-steps: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv, "SGD steps of the reference executor\n");
  auto context = test::makeContext();
  std::ifstream in(modelPath);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string diagnostics, error;
  if (!in && !in.eof())
    return fail("cannot read " + modelPath);
  auto module = test::importSource(*context, text, batch, &diagnostics);
  if (!module)
    return fail(diagnostics);
  mlir::func::FuncOp forward = test::forwardOf(*module);
  llvm::StringMap<bool> trainable;
  forward.walk([&](rn::WeightOp op) { trainable[op.getName()] = !op.getState(); });
  auto inputType = cast<mlir::RankedTensorType>(forward.getArgument(0).getType());
  auto shape = inputType.getShape();
  int64_t classes = cast<mlir::RankedTensorType>(forward.getResultTypes()[0]).getShape()[1];

  WeightsFile file;
  if (!readWeightsFile(weightsPath, file, error))
    return fail(error);
  reference::WeightMap weights = reference::toWeightMap(file), momentum;

  // The trainer's data: the first N images, normalised by their statistics.
  train::TrainingData data;
  if (!train::loadDataSource(dataSpec, shape[1], shape[2], shape[3], classes, data, error))
    return fail(error);
  data::Dataset &images = data.train;
  if (trainImages > 0 && trainImages < images.size()) {
    images.labels.resize(size_t(trainImages));
    images.images.resize(size_t(trainImages * images.imageValues()));
  }
  data::normalize(images, data::channelStatistics(images));
  data::Batches batches(images, batch, seed);
  const int64_t globalBatch = batch;
  std::vector<float> pixels(size_t(globalBatch * images.imageValues()));
  std::vector<int32_t> labels(static_cast<size_t>(globalBatch));
  for (int step = 0; step < steps; ++step) {
    if (!batches.next(pixels.data(), labels.data()))
      return fail("fewer than " + std::to_string(steps.getValue()) + " batches in an epoch");
    reference::Tensor input({shape[0], shape[1], shape[2], shape[3]}, pixels);
    auto [loss, correct] = test::referenceSgdStep(forward, input, labels, weights, momentum,
                                                  trainable, {0.9, 1e-4, learningRate});
    outs() << formatv("step {0}: loss {1:F6}, {2} correct\n", step + 1, loss, correct);
  }

  for (NamedTensor &tensor : file.tensors)
    tensor.values = weights[tensor.name].toFloat();
  for (auto &entry : momentum) {
    const NamedTensor *weight = file.find(entry.getKey().str());
    file.tensors.push_back(
        {"momentum/" + entry.getKey().str(), weight->shape, entry.getValue().toFloat()});
  }
  if (!writeWeightsFile(output, file, error))
    return fail(error);
  return 0;
}
