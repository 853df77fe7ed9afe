//===- ModelTestSupport.cpp - Building models in unit tests ---------------===//

#include "ModelTestSupport.h"

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using namespace mlir;

std::unique_ptr<MLIRContext> resnetc::test::makeContext() {
  auto context = std::make_unique<MLIRContext>();
  context->loadDialect<rn::RnDialect, func::FuncDialect>();
  return context;
}

OwningOpRef<ModuleOp> resnetc::test::importSource(MLIRContext &context, const std::string &source,
                                                  int64_t batch, std::string *diagnostics,
                                                  llvm::ArrayRef<int64_t> inputOverride) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(source, "test.rn"),
                               llvm::SMLoc());
  std::string captured;
  llvm::raw_string_ostream os(captured);
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  // Parser errors print through the SourceMgr itself: send them to the same place.
  sourceMgr.setDiagHandler(
      [](const llvm::SMDiagnostic &diag, void *stream) {
        diag.print(nullptr, *static_cast<llvm::raw_ostream *>(stream));
      },
      &os);
  ImportOptions options;
  options.batch = batch;
  options.inputOverride.assign(inputOverride.begin(), inputOverride.end());
  OwningOpRef<ModuleOp> module = importModel(context, sourceMgr, options);
  if (module && failed(expandModel(*module)))
    module = nullptr;
  if (diagnostics)
    *diagnostics = captured;
  return module;
}

OwningOpRef<ModuleOp> resnetc::test::parseMlir(MLIRContext &context, const std::string &text) {
  return parseSourceString<ModuleOp>(text, &context);
}

std::string resnetc::test::readExample(const std::string &name) {
  std::ifstream file(std::string(RESNETC_EXAMPLES_DIR) + "/" + name + ".rn");
  if (!file)
    file.open(std::string(RESNETC_TEST_MODELS_DIR) + "/" + name + ".rn");
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

func::FuncOp resnetc::test::forwardOf(ModuleOp module) {
  return module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
}

resnetc::reference::Tensor resnetc::test::runFirstFunction(
    ModuleOp module, const std::vector<resnetc::reference::Tensor> &inputs,
    resnetc::reference::WeightMap &weights, resnetc::reference::BatchNormMode mode) {
  auto function = *module.getOps<func::FuncOp>().begin();
  std::vector<resnetc::reference::Tensor> outputs;
  std::string error;
  resnetc::reference::RunOptions options;
  options.batchNorm = mode;
  EXPECT_TRUE(resnetc::reference::run(function, inputs, weights, options, outputs, error)) << error;
  return outputs.empty() ? resnetc::reference::Tensor() : outputs.front();
}

namespace {

/// The reference's forward pass of a training step: batch statistics, and
/// dropout's masks of the library's seed and steps.
resnetc::reference::RunOptions trainingRun(const resnetc::test::SgdSettings &sgd) {
  resnetc::reference::RunOptions training;
  training.batchNorm = resnetc::reference::BatchNormMode::Training;
  training.dropoutSeed = sgd.dropoutSeed;
  training.dropoutStep = sgd.dropoutStep;
  return training;
}

} // namespace

std::pair<double, int> resnetc::test::referenceSgdStep(func::FuncOp forward,
                                                       const resnetc::reference::Tensor &images,
                                                       const std::vector<int32_t> &labels,
                                                       resnetc::reference::WeightMap &weights,
                                                       resnetc::reference::WeightMap &momentum,
                                                       const llvm::StringMap<bool> &trainable,
                                                       const SgdSettings &sgd) {
  using namespace resnetc::reference;
  RunOptions training = trainingRun(sgd);
  std::vector<Tensor> logits;
  std::string error;
  WeightMap scratch = weights; // the running statistics move once per step
  EXPECT_TRUE(run(forward, {images}, scratch, training, logits, error)) << error;
  int64_t N = logits[0].shape[0], K = logits[0].shape[1];
  Tensor seed(logits[0].shape);
  double loss = 0;
  int correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    const double *row = &logits[0].data[n * K];
    double top = *std::max_element(row, row + K), sum = 0;
    for (int64_t k = 0; k < K; ++k)
      sum += std::exp(row[k] - top);
    loss += (std::log(sum) + top - row[labels[n]]) / double(N);
    correct += std::max_element(row, row + K) - row == labels[n];
    for (int64_t k = 0; k < K; ++k)
      seed.data[n * K + k] = (std::exp(row[k] - top) / sum - (k == labels[n])) / double(N);
  }
  referenceSgdStepFromGradients(forward, images, {seed}, weights, momentum, trainable, sgd);
  return {loss, correct};
}

std::vector<resnetc::reference::Tensor> resnetc::test::referenceSgdStepFromGradients(
    func::FuncOp forward, const resnetc::reference::Tensor &images,
    const std::vector<resnetc::reference::Tensor> &outputGradients,
    resnetc::reference::WeightMap &weights, resnetc::reference::WeightMap &momentum,
    const llvm::StringMap<bool> &trainable, const SgdSettings &sgd) {
  using namespace resnetc::reference;
  RunOptions training = trainingRun(sgd);
  std::vector<Tensor> outputs;
  std::string error;
  Gradients gradients;
  EXPECT_TRUE(runWithGradients(forward, {images}, weights, training, outputGradients, outputs,
                               gradients, error))
      << error;
  for (auto &entry : weights) {
    if (!trainable.lookup(entry.getKey()))
      continue;
    std::vector<double> &w = entry.getValue().data;
    std::vector<double> &m = momentum[entry.getKey()].data;
    if (m.empty())
      m.assign(w.size(), 0.0);
    const std::vector<double> &g = gradients.weights[entry.getKey()].data;
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = sgd.momentum * m[i] + g[i] + sgd.weightDecay * w[i];
      w[i] -= sgd.learningRate * m[i];
    }
  }
  return outputs;
}
