//===- resnetc.cpp - The resnetc command line -----------------------------===//
//
//   resnetc stats model.rn [--json]
//   resnetc compile model.rn --emit=rn|rn-expanded|rn-inference [--batch N] [-o out]
//   resnetc init model.rn --seed 7 -o model.rnw
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"
#include "resnetc/Weights/InitializeWeights.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace resnetc;

namespace {

cl::OptionCategory category("resnetc options");

cl::SubCommand statsCommand("stats", "Print layers, output shapes, parameters and multiply-adds");
cl::SubCommand compileCommand("compile", "Compile a model (for now: print it in the rn dialect)");
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
cl::opt<int64_t> batch("batch", cl::desc("Images per forward pass (default 1)"), cl::init(1),
                       cl::sub(compileCommand), cl::cat(category));

enum class Emit { Rn, RnExpanded, RnInference, RnCodegen, Kernels };
cl::opt<Emit>
    emit("emit", cl::desc("What to produce"), cl::sub(compileCommand), cl::cat(category),
         cl::values(clEnumValN(Emit::Rn, "rn",
                               "the module in the rn dialect, as the front end built it"),
                    clEnumValN(Emit::RnExpanded, "rn-expanded", "after shortcut expansion"),
                    clEnumValN(Emit::RnInference, "rn-inference",
                               "after shortcut expansion and batch-norm folding"),
                    clEnumValN(Emit::RnCodegen, "rn-codegen",
                               "after epilogue fusion: one op per kernel"),
                    clEnumValN(Emit::Kernels, "kernels",
                               "the kernels, the calls that run them and the memory plan")));
cl::opt<bool> printLocations("locations", cl::desc("Print source locations with the ops"),
                             cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> compileOutput("o", cl::desc("Output file (default: stdout)"),
                                   cl::value_desc("file"), cl::init("-"), cl::sub(compileCommand),
                                   cl::cat(category));

cl::opt<uint64_t> seed("seed", cl::desc("Seed of the initialisation (default 0)"), cl::init(0),
                       cl::sub(initCommand), cl::cat(category));
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

int runCompile(mlir::MLIRContext &context) {
  if (batch <= 0 || batch > (int64_t(1) << 20))
    return fail("--batch must be between 1 and 2^20, got " + Twine(batch.getValue()));
  if (emit.getNumOccurrences() == 0)
    return fail("code generation is not implemented yet: use --emit=rn, rn-expanded or "
                "rn-inference to print the model in the rn dialect");
  LoadedModel model(context);
  if (!model.load(compileInput, batch))
    return 1;
  if (emit == Emit::RnExpanded && failed(expandModel(model.get())))
    return 1;
  if (emit == Emit::RnInference && failed(prepareForInference(model.get())))
    return 1;
  if ((emit == Emit::RnCodegen || emit == Emit::Kernels) && failed(prepareForCodegen(model.get())))
    return 1;
  std::string error;
  auto output = mlir::openOutputFile(compileOutput, &error);
  if (!output)
    return fail(error);
  if (emit == Emit::Kernels) {
    mlir::FailureOr<codegen::KernelPlan> plan = codegen::planKernels(model.get());
    if (failed(plan))
      return 1;
    codegen::printKernelPlan(output->os(), *plan);
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
