//===- resnetc.cpp - The resnetc command line -----------------------------===//
//
//   resnetc stats model.rn [--json]
//   resnetc compile model.rn --emit=rn|rn-expanded|rn-inference [--batch N] [-o out]
//   resnetc init model.rn --seed 7 -o model.rnw
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/CodeGen/ObjectEmitter.h"
#include "resnetc/CodeGen/Orchestration.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/CompileLibrary.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"
#include "resnetc/Weights/InitializeWeights.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <thread>

using namespace llvm;
using namespace resnetc;

namespace {

cl::OptionCategory category("resnetc options");

cl::SubCommand statsCommand("stats", "Print layers, output shapes, parameters and multiply-adds");
cl::SubCommand compileCommand("compile",
                              "Compile a model into lib<model>.a, <model>.h and <model>.rnw");
cl::SubCommand initCommand("init", "Write He-initialised weights for a model (.rnw)");

cl::opt<std::string> statsInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                                cl::sub(statsCommand));
cl::opt<std::string> compileInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                                  cl::sub(compileCommand));
cl::opt<std::string> initInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                               cl::sub(initCommand));

cl::opt<bool> json("json", cl::desc("Print the statistics as JSON"), cl::sub(statsCommand),
                   cl::cat(category));
cl::opt<std::string> networkName("network", cl::desc("The network to use when a file has several"),
                                 cl::value_desc("name"), cl::sub(statsCommand),
                                 cl::sub(compileCommand), cl::sub(initCommand), cl::cat(category));
cl::opt<std::string> inputOverride("input",
                                   cl::desc("Replace the network's input size, e.g. 3x64x64"),
                                   cl::value_desc("CxHxW"), cl::sub(compileCommand),
                                   cl::sub(statsCommand), cl::cat(category));
cl::opt<int64_t> batch("batch", cl::desc("Images per forward pass (default 1)"), cl::init(1),
                       cl::sub(compileCommand), cl::cat(category));

enum class Emit { Rn, RnExpanded, RnInference, RnCodegen, Kernels, Llvm, LlvmIr, Obj, Lib };
cl::opt<Emit>
    emit("emit", cl::desc("What to produce"), cl::sub(compileCommand), cl::cat(category),
         cl::values(
             clEnumValN(Emit::Rn, "rn", "the module in the rn dialect, as the front end built it"),
             clEnumValN(Emit::RnExpanded, "rn-expanded", "after shortcut expansion"),
             clEnumValN(Emit::RnInference, "rn-inference",
                        "after shortcut expansion and batch-norm folding"),
             clEnumValN(Emit::RnCodegen, "rn-codegen", "after epilogue fusion: one op per kernel"),
             clEnumValN(Emit::Kernels, "kernels",
                        "the kernels, the calls that run them and the memory plan"),
             clEnumValN(Emit::Llvm, "llvm", "the orchestration code in MLIR's LLVM dialect"),
             clEnumValN(Emit::LlvmIr, "llvm-ir", "the orchestration code as LLVM IR"),
             clEnumValN(Emit::Obj, "obj", "the orchestration code as an object file"),
             clEnumValN(Emit::Lib, "lib",
                        "lib<model>.a, <model>.h and <model>.rnw in the -o folder "
                        "(the default)")),
         cl::init(Emit::Lib));
cl::opt<bool> printLocations("locations", cl::desc("Print source locations with the ops"),
                             cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("Halide target string: host (default), "
                                     "x86-64-linux-avx2-fma, arm-64-linux, ..."),
                            cl::init("host"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> weightsInput("weights",
                                  cl::desc("Ship these weights (checked against the model) "
                                           "instead of He-initialised ones"),
                                  cl::value_desc("file.rnw"), cl::sub(compileCommand),
                                  cl::cat(category));
cl::opt<unsigned> jobs("j", cl::desc("Kernels to compile at once (default: the number of cores)"),
                       cl::init(0), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> cacheDir("cache-dir",
                              cl::desc("Kernel object cache (default: ~/.cache/resnetc)"),
                              cl::value_desc("dir"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> kernelgenPath("kernelgen", cl::desc("The kernel generator to run"),
                                   cl::value_desc("path"), cl::sub(compileCommand), cl::Hidden);
cl::opt<std::string> runtimeArchivePath("runtime-lib",
                                        cl::desc("The runtime archive to put in the library"),
                                        cl::value_desc("path"), cl::sub(compileCommand),
                                        cl::Hidden);
cl::opt<bool> train("train", cl::desc("Also compile a training step (forward, backward, SGD)"),
                    cl::sub(compileCommand), cl::cat(category));
cl::opt<double> sgdMomentum("momentum", cl::desc("SGD momentum compiled in (default 0.9)"),
                            cl::init(0.9), cl::sub(compileCommand), cl::cat(category));
cl::opt<double> weightDecay("weight-decay", cl::desc("L2 weight decay compiled in (default 1e-4)"),
                            cl::init(1e-4), cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Do not print the summary line"), cl::sub(compileCommand),
                    cl::cat(category));
cl::opt<std::string> compileOutput("o",
                                   cl::desc("Output folder for --emit=lib (default: .), "
                                            "else output file (default: stdout)"),
                                   cl::value_desc("file"), cl::init("-"), cl::sub(compileCommand),
                                   cl::cat(category));

cl::opt<uint64_t> seed("seed", cl::desc("Seed of the initialisation (default 0)"), cl::init(0),
                       cl::sub(initCommand), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> initOutput("o", cl::desc("Weights file to write"), cl::value_desc("file.rnw"),
                                cl::Required, cl::sub(initCommand), cl::cat(category));

int fail(const Twine &message) {
  WithColor::error(errs(), "resnetc") << message << "\n";
  return 1;
}

/// Reads, imports and verifies a model; diagnostics are printed clang-style.
class LoadedModel {
public:
  explicit LoadedModel(mlir::MLIRContext &context)
      : context(context), handler(sourceMgr, &context) {}

  bool load(StringRef path, int64_t batchSize) {
    std::string error;
    auto file = mlir::openInputFile(path, &error);
    if (!file) {
      fail(error);
      return false;
    }
    sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
    ImportOptions options;
    options.batch = batchSize;
    options.network = networkName;
    if (!inputOverride.empty()) {
      SmallVector<StringRef, 3> parts;
      StringRef(inputOverride).split(parts, 'x');
      for (StringRef part : parts) {
        int64_t size = 0;
        if (part.getAsInteger(10, size) || size <= 0 || size > (int64_t(1) << 20)) {
          fail("--input is CxHxW with positive sizes, such as 3x64x64");
          return false;
        }
        options.inputOverride.push_back(size);
      }
      if (options.inputOverride.size() != 3) {
        fail("--input is CxHxW with positive sizes, such as 3x64x64");
        return false;
      }
    }
    module = importModel(context, sourceMgr, options);
    return module && succeeded(mlir::verify(*module));
  }

  mlir::ModuleOp get() { return *module; }

private:
  mlir::MLIRContext &context;
  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

int runStats(mlir::MLIRContext &context) {
  LoadedModel model(context);
  if (!model.load(statsInput, 1) || failed(expandModel(model.get())))
    return 1;
  ModelStats stats = computeStats(model.get());
  if (json)
    outs() << formatv("{0:2}", statsToJson(stats)) << "\n";
  else
    printStatsTable(outs(), stats);
  return 0;
}

int runCompileLibrary(mlir::ModuleOp module) {
  LibraryOptions options;
  options.outputDir = compileOutput == "-" ? "." : compileOutput.getValue();
  options.target = target;
  options.sourceName = sys::path::filename(compileInput).str();
  options.weightsFile = weightsInput;
  options.seed = seed;
  options.kernelgen = kernelgenPath.empty() ? defaultKernelgenPath() : kernelgenPath.getValue();
  options.runtimeArchive =
      runtimeArchivePath.empty() ? defaultRuntimeArchive() : runtimeArchivePath.getValue();
  options.cacheDir = cacheDir.empty() ? defaultCacheDir() : cacheDir.getValue();
  options.jobs = jobs ? jobs : std::max(1u, std::thread::hardware_concurrency());
  options.training = train;
  options.momentum = sgdMomentum;
  options.weightDecay = weightDecay;
  LibraryReport report;
  std::string error;
  if (!compileLibrary(module, options, report, error))
    return error.empty() ? 1 : fail(error);
  if (!quiet)
    errs() << formatv("resnetc: {0}: {1} kernels and the Halide runtime ({2} compiled, {3} from "
                      "the cache) in {4:F1} s -> {5}, {6}, {7}; arena {8} bytes\n",
                      options.sourceName, report.kernels, report.kernelsBuilt, report.kernelsCached,
                      report.seconds, report.archive, report.header, report.weights,
                      report.arenaBytes);
  return 0;
}

int runCompile(mlir::MLIRContext &context) {
  if (batch <= 0 || batch > (int64_t(1) << 20))
    return fail("--batch must be between 1 and 2^20, got " + Twine(batch.getValue()));
  LoadedModel model(context);
  if (!model.load(compileInput, batch))
    return 1;
  if (emit == Emit::Lib)
    return runCompileLibrary(model.get());
  if (emit == Emit::RnExpanded && failed(expandModel(model.get())))
    return 1;
  if (emit == Emit::RnInference && failed(prepareForInference(model.get())))
    return 1;
  bool codegen = emit == Emit::RnCodegen || emit == Emit::Kernels || emit == Emit::Llvm ||
                 emit == Emit::LlvmIr || emit == Emit::Obj;
  if (codegen && failed(train ? prepareForTraining(model.get()) : prepareForCodegen(model.get())))
    return 1;
  std::string error;
  auto output = mlir::openOutputFile(compileOutput, &error);
  if (!output)
    return fail(error);
  if (emit == Emit::Kernels || emit == Emit::Llvm || emit == Emit::LlvmIr || emit == Emit::Obj) {
    codegen::PlanOptions planOptions;
    planOptions.training = train;
    planOptions.momentum = sgdMomentum;
    planOptions.weightDecay = weightDecay;
    mlir::FailureOr<codegen::KernelPlan> plan = codegen::planKernels(model.get(), planOptions);
    if (failed(plan))
      return 1;
    if (emit == Emit::Kernels) {
      codegen::printKernelPlan(output->os(), *plan);
      output->keep();
      return 0;
    }
    auto orchestration = codegen::buildOrchestration(context, *plan);
    if (failed(mlir::verify(*orchestration)))
      return fail("internal error: the orchestration code does not verify");
    if (emit == Emit::Llvm) {
      orchestration->print(output->os());
    } else {
      std::string triple = codegen::tripleForTarget(target, error);
      if (triple.empty())
        return fail(error);
      if (emit == Emit::LlvmIr) {
        if (failed(codegen::emitLlvmIr(*orchestration, triple, output->os(), error)))
          return fail(error);
      } else {
        llvm::SmallVector<char, 0> object;
        if (failed(codegen::emitObject(*orchestration, triple, object, error)))
          return fail(error);
        output->os().write(object.data(), object.size());
      }
    }
    output->keep();
    return 0;
  }
  mlir::OpPrintingFlags flags;
  if (printLocations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false).useLocalScope();
  model.get()->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}

int runInit(mlir::MLIRContext &context) {
  LoadedModel model(context);
  if (!model.load(initInput, 1) || failed(expandModel(model.get())))
    return 1;
  int64_t values = countWeightValues(model.get());
  if (values > kMaxWeightBytes / int64_t(sizeof(float)))
    return fail("the model has " + Twine(values) + " weight values (" +
                Twine(values * int64_t(sizeof(float)) >> 20) + " MiB), more than the limit of " +
                Twine(kMaxWeightBytes >> 20) + " MiB");
  WeightsFile weights = initializeWeights(model.get(), seed);
  std::string error;
  if (!writeWeightsFile(initOutput, weights, error))
    return fail(error);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "resnetc " << RESNETC_VERSION << " (MLIR " << LLVM_VERSION_STRING << ")\n";
  });
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "resnetc: an ahead-of-time compiler for residual networks\n");

  mlir::MLIRContext context;
  context.loadDialect<rn::RnDialect>();
  if (statsCommand)
    return runStats(context);
  if (compileCommand)
    return runCompile(context);
  if (initCommand)
    return runInit(context);
  return fail("no command given: use stats, compile or init (see resnetc --help)");
}
