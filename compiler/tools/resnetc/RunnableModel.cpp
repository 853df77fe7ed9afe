//===- RunnableModel.cpp - A trained network, compiled and loaded ---------===//
//
// The inference library is compiled into <cache>/models/<model>-<hash>-b<N>/
// (<cache> is the kernel cache) and reused while the network, the batch size
// and the compiler stay the same: a stamp file records what it was built
// from, and a lock keeps two commands from building it at once.
//
//===----------------------------------------------------------------------===//

#include "RunnableModel.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/KernelCompiler.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Driver/CompileLibrary.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Driver/SharedModel.h"
#include "resnetc/runtime/AtomicFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <thread>

using namespace llvm;
using namespace resnetc;
using namespace resnetc::tool;

RunOptions::RunOptions(cl::SubCommand &sub)
    : subCommandName(sub.getName()),
      weights(cl::Positional, cl::desc("<weights.rnw>"), cl::sub(sub)),
      model("model", cl::desc("The network the weights were trained for (required)"),
            cl::value_desc("model.rn"), cl::sub(sub), cl::cat(optionCategory())),
      network("network", cl::desc("The network to use when the file has several"),
              cl::value_desc("name"), cl::sub(sub), cl::cat(optionCategory())),
      batch("batch",
            cl::desc("Images per run of the compiled library (default 16; each batch size "
                     "is compiled once and cached)"),
            cl::init(16), cl::sub(sub), cl::cat(optionCategory())),
      threads("threads", cl::desc("Threads (default 0: one per core)"), cl::init(0), cl::sub(sub),
              cl::cat(optionCategory())),
      cacheDir("cache-dir",
               cl::desc("Kernel and library cache (default: ~/.cache/resnetc); compiled "
                        "libraries go to its models/ folder"),
               cl::value_desc("dir"), cl::sub(sub), cl::cat(optionCategory())),
      jobs("j", cl::desc("Kernels to compile at once (default: the number of cores)"), cl::init(0),
           cl::sub(sub), cl::cat(optionCategory())),
      linker("linker",
             cl::desc("C++ compiler driver that links the library into a shared object "
                      "(default: $CXX, c++, g++ or clang++)"),
             cl::value_desc("path"), cl::sub(sub), cl::cat(optionCategory())) {}

namespace {

/// Prints the error; false, for the boolean steps below.
bool refuse(const Twine &message) {
  fail(message);
  return false;
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text;
  for (int64_t size : shape)
    text += (text.empty() ? "" : "x") + std::to_string(size);
  return text;
}

/// Size and modification time: a rebuilt compiler, generator or runtime
/// makes the cached library stale.
std::string fileIdentity(const std::string &path) {
  sys::fs::file_status status;
  if (sys::fs::status(path, status))
    return path + ":missing";
  return formatv("{0}:{1}:{2}", path, status.getSize(),
                 status.getLastModificationTime().time_since_epoch().count())
      .str();
}

/// The stamp of a cached library: what it was built from, and the shapes a
/// LibraryReport needs to load it again.
json::Value stampJson(StringRef identity, const LibraryReport &report) {
  return json::Object{{"identity", identity},
                      {"model", report.model},
                      {"input", json::Array(report.inputShape)},
                      {"output", json::Array(report.outputShape)}};
}

/// Fills `report` from the stamp when the library in `folder` was built
/// from `identity` and is still there.
bool readStamp(const std::string &folder, StringRef identity, LibraryReport &report) {
  auto buffer = MemoryBuffer::getFile(folder + "/stamp.json");
  if (!buffer)
    return false;
  Expected<json::Value> value = json::parse((*buffer)->getBuffer());
  if (!value) {
    consumeError(value.takeError());
    return false;
  }
  const json::Object *root = value->getAsObject();
  if (!root || root->getString("identity") != identity)
    return false;
  std::optional<StringRef> model = root->getString("model");
  const json::Array *input = root->getArray("input"), *output = root->getArray("output");
  if (!model || !input || !output || input->size() != 4 || output->size() != 2)
    return false;
  report = LibraryReport();
  report.model = model->str();
  for (const json::Value &size : *input)
    report.inputShape.push_back(size.getAsInteger().value_or(0));
  for (const json::Value &size : *output)
    report.outputShape.push_back(size.getAsInteger().value_or(0));
  report.archive = folder + "/lib" + report.model + ".a";
  report.header = folder + "/" + report.model + ".h";
  return sys::fs::exists(report.archive);
}

/// Each weight's name and shape, in order: what a weights file must hold.
std::vector<std::string> weightShapes(mlir::ModuleOp module) {
  std::vector<std::string> shapes;
  module.walk([&](rn::WeightOp weight) {
    std::string text;
    raw_string_ostream os(text);
    os << weight->getAttrDictionary() << weight.getType();
    shapes.push_back(std::move(text));
  });
  return shapes;
}

/// The input size whose shorter side is `scale`, the other in proportion.
void scaleInput(int64_t &height, int64_t &width, int64_t scale) {
  int64_t shorter = std::min(height, width);
  int64_t scaledHeight = (height * scale + shorter / 2) / shorter;
  int64_t scaledWidth = (width * scale + shorter / 2) / shorter;
  height = std::max<int64_t>(1, scaledHeight);
  width = std::max<int64_t>(1, scaledWidth);
}

} // namespace

bool RunnableModel::open(const RunOptions &o, const std::string &weightsPath,
                         const std::string &modelPath, const Variant &v) {
  options = &o;
  variant = v;
  const int64_t scale = v.scale;
  weightsFile = weightsPath;
  modelFile = modelPath;
  // Checked here rather than by cl::Required, for resnetc's one-line errors.
  if (weightsPath.empty())
    return refuse("no weights file given: resnetc " + Twine(o.subCommandName) +
                  " <weights.rnw> --model <model.rn> ...");
  if (modelPath.empty())
    return refuse("--model is required: the network (.rn) that " + weightsPath +
                  " was trained for");
  if (o.batch <= 0 || o.batch > 4096)
    return refuse("--batch must be between 1 and 4096, got " + Twine(o.batch.getValue()));
  if (o.threads < 0)
    return refuse("--threads cannot be negative, got " + Twine(o.threads.getValue()));
  if (!loaded.load(modelPath, o.batch, o.network) || !loaded.requireClassifier(o.subCommandName))
    return false;
  std::vector<std::string> trainedWeights;
  {
    // The hash of the expanded network, on a copy: compileLibrary expands
    // the module itself.
    mlir::OwningOpRef<mlir::ModuleOp> copy = loaded.get().clone();
    if (failed(expandModel(*copy)))
      return false;
    hash = architectureHash(*copy);
    trainedWeights = weightShapes(*copy);
  }
  auto inputShape = [&] {
    auto forward = loaded.get().lookupSymbol<mlir::func::FuncOp>(rn::kForwardFunction);
    return cast<mlir::ShapedType>(forward.getArgumentTypes()[0]).getShape();
  };
  std::copy_n(inputShape().begin() + 1, 3, trainedShape);
  if (scale > 0) {
    int64_t height = trainedShape[1], width = trainedShape[2];
    scaleInput(height, width, scale);
    std::string size = formatv("{0}x{1}x{2}", trainedShape[0], height, width).str();
    if (!loaded.load(modelPath, o.batch, o.network, size))
      return false;
    mlir::OwningOpRef<mlir::ModuleOp> copy = loaded.get().clone();
    if (failed(expandModel(*copy)))
      return false;
    if (weightShapes(*copy) != trainedWeights)
      return refuse(modelPath + " at " + size +
                    " needs other weights than at its own input: multi-scale testing needs a "
                    "network that is fully convolutional up to a global pooling");
    setWeightsArchitectureHash(loaded.get(), hash);
  }
  mlir::ModuleOp module = loaded.get();
  modelName = module->getAttrOfType<mlir::StringAttr>("rn.model").str();
  auto forward = module.lookupSymbol<mlir::func::FuncOp>(rn::kForwardFunction);
  std::copy_n(inputShape().begin(), 4, shape);
  networkClasses = classCount = cast<mlir::ShapedType>(forward.getResultTypes()[0]).getShape()[1];
  if (v.probeResponses) {
    if (!loaded.makeResponsesProbe())
      return false;
    auto names = module->getAttrOfType<mlir::ArrayAttr>(rn::kOutputNamesAttr);
    classCount = 0;
    for (auto [name, type] : llvm::zip_equal(names, forward.getResultTypes())) {
      auto dims = cast<mlir::ShapedType>(type).getShape();
      probeOutputs.push_back({cast<mlir::StringAttr>(name).str(), dims[1], dims[2], dims[3]});
      classCount += dims[1] * dims[2] * dims[3];
    }
  }

  std::string error;
  if (!readWeightsFile(weightsFile, file, error))
    return refuse(error);
  // The same check as the library's loader, before the library is built.
  if (!checkArchitecture(file, modelName, hash, error))
    return refuse(weightsFile + ": " + error);
  const InputInfo &info = file.input;
  std::vector<int64_t> trained(trainedShape, trainedShape + 3);
  if (!info.shape.empty() && info.shape != trained)
    return refuse(weightsFile + " was trained on " + shapeText(info.shape) +
                  " inputs, the network takes " + shapeText(trained));
  if (info.hasNormalization() &&
      (int64_t(info.mean.size()) != channels() || info.stddev.size() != info.mean.size()))
    return refuse(weightsFile + " normalises " + Twine(info.mean.size()) +
                  " channels, the network takes " + Twine(channels()));
  if (!file.classes.empty() && int64_t(file.classes.size()) != networkClasses)
    return refuse(weightsFile + " names " + Twine(file.classes.size()) +
                  " classes, the network has " + Twine(networkClasses));
  return true;
}

bool RunnableModel::start() {
  const RunOptions &o = *options;
  std::string error;
  const std::string kernelgen = defaultKernelgenPath();
  const std::string runtime = defaultRuntimeArchive("host");
  const std::string cache = o.cacheDir.empty() ? defaultCacheDir() : o.cacheDir.getValue();
  // A network compiled at another input size than its own has a folder of
  // its own (the hash is the weights').
  const bool scaled = height() != trainedHeight() || width() != trainedWidth();
  const std::string folder =
      formatv("{0}/models/{1}-{2}-b{3}{4}{5}", cache, modelName, format_hex_no_prefix(hash, 16),
              batch(), scaled ? formatv("-{0}x{1}", height(), width()).str() : "",
              variant.probeResponses ? "-responses" : "")
          .str();
  std::string target = codegen::resolveTarget(kernelgen, "host", error);
  if (target.empty())
    return refuse(error);
  const std::string identity = fileIdentity(sys::fs::getMainExecutable(nullptr, (void *)&refuse)) +
                               " " + fileIdentity(kernelgen) + " " + fileIdentity(runtime) + " " +
                               target;

  if (std::error_code ec = sys::fs::create_directories(folder))
    return refuse("cannot create " + folder + ": " + ec.message());
  int lockFd = -1;
  if (std::error_code ec = sys::fs::openFileForReadWrite(folder + "/.lock", lockFd,
                                                         sys::fs::CD_OpenAlways, sys::fs::OF_None))
    return refuse("cannot open " + folder + "/.lock: " + ec.message());
  scope_exit closeLock([&] {
    sys::fs::unlockFile(lockFd);
    sys::Process::SafelyCloseFileDescriptor(lockFd);
  });
  if (std::error_code ec = sys::fs::lockFile(lockFd))
    return refuse("cannot lock " + folder + "/.lock: " + ec.message());

  LibraryReport report;
  if (!readStamp(folder, identity, report)) {
    errs() << formatv("resnetc: compiling {0} {3} (batch {1}{4}) into {2}; later runs "
                      "reuse it\n",
                      modelName, batch(), folder,
                      variant.probeResponses ? "with its responses as outputs" : "for inference",
                      scaled ? formatv(", input {0}x{1}", height(), width()).str() : "");
    LibraryOptions library;
    library.outputDir = folder;
    library.sourceName = sys::path::filename(modelFile).str();
    library.kernelgen = kernelgen;
    library.runtimeArchive = runtime;
    library.cacheDir = cache;
    library.jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
    // No --weights: the library loads the given file at run time (checked by
    // its loader), so one build serves every checkpoint of the network.
    if (!compileLibrary(loaded.get(), library, report, error))
      return error.empty() ? false : refuse(error);
    sys::fs::remove(report.weights); // the He-initialised weights: never used
    errs() << formatv("resnetc: {0}: {1} kernels ({2} compiled, {3} from the cache) in {4:F1} s\n",
                      modelName, report.kernels, report.kernelsBuilt, report.kernelsCached,
                      report.seconds);
    std::string stamp = formatv("{0:2}", stampJson(identity, report)).str() + "\n";
    if (!writeFileAtomically(folder + "/stamp.json", stamp.data(), stamp.size(), error))
      return refuse(error);
  }
  if (!loadSharedModel(report, o.linker, table, error))
    return refuse(error);
  if (table.batch != batch() || table.classes != classes() || table.channels != channels() ||
      table.height != height() || table.width != width())
    return refuse("internal error: the library in " + folder + " does not match " + modelFile);

  ctx = {table.create(), table.destroy};
  if (!ctx)
    return refuse("out of memory creating a context of " + modelName);
  if (table.setThreads(ctx.get(), o.threads) != 0 ||
      table.loadWeightsFile(ctx.get(), weightsFile.c_str()) != 0)
    return refuse(table.errorMessage(ctx.get()));
  return true;
}

bool RunnableModel::run(const std::vector<float> &input, std::vector<float> &logits) {
  logits.resize(size_t(batch() * classes()));
  if (table.run(ctx.get(), input.data(), input.size(), logits.data(), logits.size()) != 0)
    return refuse(table.errorMessage(ctx.get()));
  return true;
}

std::string RunnableModel::classLabel(int64_t k) const {
  if (file.classes.empty())
    return "class " + std::to_string(k);
  return std::to_string(k) + " " + file.classes[size_t(k)];
}

bool RunnableModel::recordedNormalization(data::Normalization &out) const {
  if (!file.input.hasNormalization())
    return false;
  out.mean = file.input.mean;
  out.stddev = file.input.stddev;
  return true;
}
