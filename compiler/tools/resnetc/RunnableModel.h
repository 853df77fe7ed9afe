//===- RunnableModel.h - A trained network, compiled and loaded -*- C++ -*-===//
//
// What `resnetc eval` and `resnetc predict` share: the network (.rn) and its
// trained weights (.rnw), checked against each other before anything is
// compiled; the inference library, compiled once into the cache and reused;
// a context of it with the weights loaded.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TOOLS_RESNETC_RUNNABLEMODEL_H
#define RESNETC_TOOLS_RESNETC_RUNNABLEMODEL_H

#include "ToolSupport.h"

#include "resnetc/data/Datasets.h"
#include "resnetc/runtime/WeightsFile.h"
#include "resnetc/train/ModelApi.h"

#include "llvm/Support/CommandLine.h"

#include <memory>
#include <string>

namespace resnetc::tool {

/// The options of a command that runs a trained network. LLVM's options are
/// per subcommand, so each command makes its own set, after its SubCommand.
struct RunOptions {
  explicit RunOptions(llvm::cl::SubCommand &subCommand);

  std::string subCommandName;
  llvm::cl::opt<std::string> weights; ///< The positional <weights.rnw>.
  llvm::cl::opt<std::string> model;
  llvm::cl::opt<std::string> network;
  llvm::cl::opt<int64_t> batch;
  llvm::cl::opt<int> threads;
  llvm::cl::opt<std::string> cacheDir;
  llvm::cl::opt<unsigned> jobs;
  llvm::cl::opt<std::string> linker;
};

class RunnableModel {
public:
  explicit RunnableModel(mlir::MLIRContext &context) : loaded(context) {}

  /// Reads the network and the weights and checks that they belong together
  /// (model, architecture, input). Quick: the commands call it before they
  /// read their inputs, so mistakes show before minutes of compilation.
  /// Errors are printed; false on one.
  bool open(const RunOptions &options) {
    return open(options, options.weights, options.model, Variant());
  }

  /// What is compiled of the network besides its plain inference library.
  struct Variant {
    /// Inputs whose shorter side is `scale` (the other in proportion), on the
    /// weights trained at the network's own size: it must be fully
    /// convolutional up to a global pooling, as multi-scale testing needs.
    int64_t scale = 0;
    /// The responses of the 3x3 layers instead of class scores
    /// (rn-probe-responses): `run` writes outputs() one after another.
    bool probeResponses = false;
  };

  /// The same for the given files and variant.
  bool open(const RunOptions &options, const std::string &weightsPath, const std::string &modelPath,
            const Variant &variant);

  /// Compiles the inference library unless the cache holds it, loads it,
  /// and makes a context with the weights loaded. Errors are printed.
  bool start();

  /// A probe's outputs, in the order `run` writes them, each for the whole
  /// batch (N x C x H x W).
  struct Output {
    std::string name;
    int64_t channels = 0, height = 0, width = 0;
  };
  const std::vector<Output> &outputs() const { return probeOutputs; }

  /// Runs one batch: `input` holds batch() images, `logits` gets batch() rows
  /// (of a probe: every output, one after another).
  bool run(const std::vector<float> &input, std::vector<float> &logits);

  const std::string &name() const { return modelName; }
  int64_t batch() const { return shape[0]; }
  int64_t channels() const { return shape[1]; }
  int64_t height() const { return shape[2]; }
  int64_t width() const { return shape[3]; }
  /// Class scores per image (a probe's: the values of all its outputs).
  int64_t classes() const { return classCount; }
  /// The input the weights were trained at (the network's own), C x H x W.
  int64_t trainedHeight() const { return trainedShape[1]; }
  int64_t trainedWidth() const { return trainedShape[2]; }
  int64_t trainedClasses() const { return networkClasses; }
  const std::string &weightsPath() const { return weightsFile; }
  const WeightsFile &weights() const { return file; }
  /// The network as compiled (a probe's with its responses as outputs).
  mlir::ModuleOp module() { return loaded.get(); }
  const train::ModelApi &api() const { return table; }
  void *context() const { return ctx.get(); }

  /// "6 shirt" with the weights' class names, else "class 6".
  std::string classLabel(int64_t k) const;

  /// The weights' input normalisation; false when they record none (files of
  /// `resnetc init` and of older versions). Checked against the network by open().
  bool recordedNormalization(data::Normalization &out) const;

private:
  const RunOptions *options = nullptr;
  std::string weightsFile, modelFile;
  Variant variant;
  std::vector<Output> probeOutputs;
  int64_t networkClasses = 0; ///< The classifier's, also for a probe.
  int64_t trainedShape[3] = {0, 0, 0};
  LoadedModel loaded;
  std::string modelName;
  uint64_t hash = 0;
  int64_t shape[4] = {0, 0, 0, 0}; ///< N, C, H, W
  int64_t classCount = 0;
  WeightsFile file;
  train::ModelApi table;
  std::unique_ptr<void, void (*)(void *)> ctx{nullptr, nullptr};
};

} // namespace resnetc::tool

#endif // RESNETC_TOOLS_RESNETC_RUNNABLEMODEL_H
