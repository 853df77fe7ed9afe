//===- resnetc.cpp - The resnetc command line -----------------------------===//
//
//   resnetc stats model.rn [--json]
//   resnetc compile model.rn --emit=rn|rn-expanded|rn-inference [--batch N] [-o out]
//   resnetc init model.rn --seed 7 -o model.rnw
//   resnetc targets
//   resnetc train model.rn --data fashion-mnist:DIR --epochs 15 --checkpoint-dir runs/r20
//
// and, each in its own <Name>Command.cpp: info, import, export, eval, predict.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/KernelCompiler.h"
#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/CodeGen/ObjectEmitter.h"
#include "resnetc/CodeGen/Orchestration.h"
#include "resnetc/CodeGen/TargetLookup.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/CompileLibrary.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Driver/SharedModel.h"
#include "resnetc/Frontend/ModelImporter.h"
#include "resnetc/Transforms/Passes.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/distributed/MpiCommunicator.h"
#include "resnetc/runtime/WeightsFile.h"
#include "resnetc/train/Ranks.h"
#include "resnetc/train/Trainer.h"

#include "Commands.h"
#include "ToolSupport.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <thread>

using namespace llvm;
using namespace resnetc;
using resnetc::tool::fail;
using resnetc::tool::LoadedModel;

namespace {

cl::OptionCategory &category = tool::optionCategory();

cl::SubCommand statsCommand("stats", "Print layers, output shapes, parameters and multiply-adds");
cl::SubCommand compileCommand("compile",
                              "Compile a model into lib<model>.a, <model>.h and <model>.rnw");
cl::SubCommand initCommand("init", "Write He-initialised weights for a model (.rnw)");
cl::SubCommand targetsCommand("targets",
                              "List the targets resnetc compiles for and this machine's");
cl::SubCommand trainCommand("train",
                            "Compile a model with its training step and train it on a data set");

cl::opt<std::string> statsInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                                cl::sub(statsCommand));
cl::opt<std::string> compileInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                                  cl::sub(compileCommand));
cl::opt<std::string> initInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                               cl::sub(initCommand));
cl::opt<std::string> trainInput(cl::Positional, cl::desc("<model.rn>"), cl::Required,
                                cl::sub(trainCommand));

cl::opt<bool> json("json", cl::desc("Print the statistics as JSON"), cl::sub(statsCommand),
                   cl::cat(category));
cl::opt<bool> printArchitecture("architecture",
                                cl::desc("Print the text the architecture hash is computed "
                                         "from, then the hash (docs/weights-format.md)"),
                                cl::sub(statsCommand), cl::cat(category));
cl::opt<std::string> networkName("network", cl::desc("The network to use when a file has several"),
                                 cl::value_desc("name"), cl::sub(statsCommand),
                                 cl::sub(compileCommand), cl::sub(trainCommand),
                                 cl::sub(initCommand), cl::cat(category));
cl::opt<std::string> inputOverride("input",
                                   cl::desc("Replace the network's input size, e.g. 3x64x64"),
                                   cl::value_desc("CxHxW"), cl::sub(compileCommand),
                                   cl::sub(trainCommand), cl::sub(statsCommand), cl::cat(category));
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
                                  cl::sub(trainCommand), cl::cat(category));
cl::opt<unsigned> jobs("j", cl::desc("Kernels to compile at once (default: the number of cores)"),
                       cl::init(0), cl::sub(compileCommand), cl::sub(trainCommand),
                       cl::cat(category));
cl::opt<std::string> cacheDir("cache-dir",
                              cl::desc("Kernel object cache (default: ~/.cache/resnetc)"),
                              cl::value_desc("dir"), cl::sub(compileCommand), cl::sub(trainCommand),
                              cl::cat(category));
cl::opt<std::string> kernelgenPath("kernelgen", cl::desc("The kernel generator to run"),
                                   cl::value_desc("path"), cl::sub(compileCommand),
                                   cl::sub(trainCommand), cl::Hidden);
cl::opt<std::string> runtimeArchivePath("runtime-lib",
                                        cl::desc("The runtime archive to put in the library"),
                                        cl::value_desc("path"), cl::sub(compileCommand),
                                        cl::sub(trainCommand), cl::Hidden);
cl::opt<bool> probeResponses(
    "probe-responses",
    cl::desc("Compile the responses of the 3x3 layers (each one's batch norm output, the paper's "
             "Fig. 7) as the library's outputs instead of the class scores; it loads the "
             "network's weights (see resnetc analyze responses)"),
    cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> train("train", cl::desc("Also compile a training step (forward, backward, SGD)"),
                    cl::sub(compileCommand), cl::cat(category));
cl::opt<double> sgdMomentum("momentum", cl::desc("SGD momentum compiled in (default 0.9)"),
                            cl::init(0.9), cl::sub(compileCommand), cl::sub(trainCommand),
                            cl::cat(category));
cl::opt<double> weightDecay("weight-decay", cl::desc("L2 weight decay compiled in (default 1e-4)"),
                            cl::init(1e-4), cl::sub(compileCommand), cl::sub(trainCommand),
                            cl::cat(category));
cl::opt<double> allreduceBucketMb(
    "allreduce-bucket-mb",
    cl::desc("Data-parallel training: gradient megabytes per allreduce, started as soon as the "
             "backward pass has written them (default 25)"),
    cl::init(25), cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(category));
cl::opt<int64_t> syncBatchNormRanks(
    "sync-bn-ranks",
    cl::desc("Data-parallel training: batch norm over the whole batch of this many ranks "
             "(default 0: each rank's own share)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> syncBatchNorm(
    "sync-bn",
    cl::desc("Under mpirun: batch norm over the whole global batch, so that N ranks compute "
             "what one process computes (default: each rank's share, as in the paper)"),
    cl::sub(trainCommand), cl::cat(category));
cl::opt<double> rankTimeout(
    "rank-timeout",
    cl::desc("Data-parallel training (under mpirun): stop when a step waits this many seconds "
             "for the other ranks (default 600)"),
    cl::init(600), cl::sub(trainCommand), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Do not print the summary line"), cl::sub(compileCommand),
                    cl::cat(category));
cl::opt<std::string> compileOutput("o",
                                   cl::desc("Output folder for --emit=lib (default: .), "
                                            "else output file (default: stdout)"),
                                   cl::value_desc("file"), cl::init("-"), cl::sub(compileCommand),
                                   cl::cat(category));

cl::opt<uint64_t> seed("seed",
                       cl::desc("Random seed (default 0): init and compile draw the He "
                                "initialisation from it, train also the batches' order and "
                                "augmentation"),
                       cl::init(0), cl::sub(initCommand), cl::sub(compileCommand),
                       cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string> initOutput("o", cl::desc("Weights file to write"), cl::value_desc("file.rnw"),
                                cl::Required, cl::sub(initCommand), cl::cat(category));

// resnetc train: the compile options above (--batch aside) plus the trainer's.
// The trainer's options are parsed straight into its options struct.
train::TrainerOptions trainerOptions;
cl::opt<std::string, true>
    trainData("data", cl::location(trainerOptions.data),
              cl::desc("Data set as KIND:PATH, KIND one of fashion-mnist, mnist, "
                       "cifar10, cifar100, raw (default "
                       "fashion-mnist:/usr/share/datasets/fashion-mnist)"),
              cl::init("fashion-mnist:/usr/share/datasets/fashion-mnist"), cl::sub(trainCommand),
              cl::cat(category));
cl::opt<int64_t> trainBatch("batch",
                            cl::desc("Images per training step, of all ranks together under "
                                     "mpirun (default 128)"),
                            cl::init(128), cl::sub(trainCommand), cl::cat(category));
cl::opt<int, true> trainEpochs("epochs", cl::location(trainerOptions.epochs),
                               cl::desc("Epochs to train (default 15)"), cl::init(15),
                               cl::sub(trainCommand), cl::cat(category));
cl::opt<double, true> trainRate("lr", cl::location(trainerOptions.learningRate),
                                cl::desc("Base learning rate (default 0.1)"), cl::init(0.1),
                                cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string, true>
    trainSchedule("schedule", cl::location(trainerOptions.schedule),
                  cl::desc("constant, multistep[:F1,F2,...] (divide by 10 at "
                           "these fractions of the run; default 0.5,0.75) or "
                           "cosine"),
                  cl::init("multistep"), cl::sub(trainCommand), cl::cat(category));
cl::opt<double, true>
    trainWarmup("warmup", cl::location(trainerOptions.warmup),
                cl::desc("Train at this rate until the training error is below 80%"), cl::init(0),
                cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string, true>
    trainAugment("augment", cl::location(trainerOptions.augment),
                 cl::desc("Augmentation: pad<N>, crop, flip, e.g. pad4,crop,flip "
                          "(default none)"),
                 cl::sub(trainCommand), cl::cat(category));
cl::opt<int64_t, true> lrReferenceBatch(
    "lr-reference-batch", cl::location(trainerOptions.lrReferenceBatch),
    cl::desc("Linear scaling rule (Goyal et al.): --lr is the rate for a batch of this many "
             "images, scaled to --batch (e.g. 256 for ImageNet's 0.1; default 0: as given)"),
    cl::init(0), cl::sub(trainCommand), cl::cat(category));
cl::opt<double, true> warmupEpochs(
    "warmup-epochs", cl::location(trainerOptions.warmupEpochs),
    cl::desc("Gradual warm-up: from --lr linearly to the scaled rate over this many epochs "
             "(Goyal et al.: 5)"),
    cl::init(0), cl::sub(trainCommand), cl::cat(category));
cl::opt<int64_t, true> trainImages("train-images", cl::location(trainerOptions.trainImages),
                                   cl::desc("Train on the first N images only (default: all)"),
                                   cl::init(-1), cl::ValueRequired, cl::sub(trainCommand),
                                   cl::cat(category));
cl::opt<int64_t, true> testImages("test-images", cl::location(trainerOptions.testImages),
                                  cl::desc("Test on the first N images only (default: all)"),
                                  cl::init(-1), cl::ValueRequired, cl::sub(trainCommand),
                                  cl::cat(category));
cl::opt<int64_t, true>
    validationImages("validation", cl::location(trainerOptions.validationImages),
                     cl::desc("Hold out the last N training images and test each epoch on them "
                              "(the paper's 45k/5k split: 5000); the test set is scored once, at "
                              "the end"),
                     cl::init(0), cl::ValueRequired, cl::sub(trainCommand), cl::cat(category));
cl::opt<int, true> trainThreads("threads", cl::location(trainerOptions.threads),
                                cl::desc("Threads (default 0: one per core)"), cl::init(0),
                                cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string, true> checkpointDir("checkpoint-dir",
                                         cl::location(trainerOptions.checkpointDir),
                                         cl::desc("Folder of the run: model/, checkpoint.rnw, "
                                                  "final.rnw, metrics.csv, curves.svg (default "
                                                  "runs/<model>)"),
                                         cl::value_desc("dir"), cl::sub(trainCommand),
                                         cl::cat(category));
cl::opt<bool, true> resume("resume", cl::location(trainerOptions.resume),
                           cl::desc("Continue the run saved in --checkpoint-dir"),
                           cl::sub(trainCommand), cl::cat(category));
cl::opt<bool, true> force("force", cl::location(trainerOptions.force),
                          cl::desc("With --resume: continue a finished run, or one whose batch, "
                                   "images, epochs, learning rate, schedule or augmentation "
                                   "differ from the checkpoint's"),
                          cl::sub(trainCommand), cl::cat(category));
cl::opt<int64_t, true>
    checkpointEvery("checkpoint-every", cl::location(trainerOptions.checkpointEvery),
                    cl::desc("Also save a checkpoint every N steps (default: after "
                             "each epoch only)"),
                    cl::init(0), cl::sub(trainCommand), cl::cat(category));
cl::opt<int64_t, true> stopAfter("stop-after", cl::location(trainerOptions.stopAfter),
                                 cl::desc("Save a checkpoint and stop after N steps in all"),
                                 cl::init(0), cl::sub(trainCommand), cl::cat(category));
cl::opt<bool, true> tenCrop("ten-crop", cl::location(trainerOptions.tenCrop),
                            cl::desc("Test on ten crops of each padded image (mean softmax)"),
                            cl::sub(trainCommand), cl::cat(category));
cl::opt<double, true> expectAccuracy("expect-accuracy", cl::location(trainerOptions.expectAccuracy),
                                     cl::desc("Exit 1 when the final test accuracy is below this "
                                              "(0 to 1)"),
                                     cl::init(-1), cl::sub(trainCommand), cl::cat(category));
cl::opt<bool, true> everyRankSaves(
    "every-rank-saves", cl::location(trainerOptions.everyRankSaves),
    cl::desc("Every rank also saves checkpoint.rank<r>.rnw (for comparing the ranks)"),
    cl::sub(trainCommand), cl::Hidden);
cl::opt<bool, true> noProgress("no-progress", cl::location(trainerOptions.quiet),
                               cl::desc("Do not draw the progress bar"), cl::sub(trainCommand),
                               cl::cat(category));
cl::opt<std::string, true> trainClasses("classes", cl::location(trainerOptions.classNames),
                                        cl::desc("Class names, one a line, saved with the weights "
                                                 "(default: the data set's own, for fashion-mnist, "
                                                 "mnist and cifar10)"),
                                        cl::value_desc("names.txt"), cl::sub(trainCommand),
                                        cl::cat(category));
cl::opt<std::string> linker("linker",
                            cl::desc("C++ compiler driver that links the model into a shared "
                                     "object (default: $CXX, c++, g++ or clang++)"),
                            cl::value_desc("path"), cl::sub(trainCommand), cl::cat(category));

int runStats(mlir::MLIRContext &context) {
  LoadedModel model(context);
  if (!model.load(statsInput, 1, networkName, inputOverride) || failed(expandModel(model.get())))
    return 1;
  if (printArchitecture) {
    outs() << architectureText(model.get()) << "architecture_hash "
           << format_hex_no_prefix(architectureHash(model.get()), 16) << "\n";
    return 0;
  }
  ModelStats stats = computeStats(model.get());
  if (json)
    outs() << formatv("{0:2}", statsToJson(stats)) << "\n";
  else
    printStatsTable(outs(), stats);
  return 0;
}

int64_t allreduceBucketBytes() {
  return std::max<int64_t>(1, int64_t(allreduceBucketMb * double(1 << 20)));
}

/// The library options shared by compile and train.
LibraryOptions libraryOptions(StringRef input, StringRef outputDir, bool training) {
  LibraryOptions options;
  options.outputDir = outputDir.str();
  options.target = target;
  options.sourceName = sys::path::filename(input).str();
  options.weightsFile = weightsInput;
  options.seed = seed;
  options.kernelgen = kernelgenPath.empty() ? defaultKernelgenPath() : kernelgenPath.getValue();
  options.runtimeArchive =
      runtimeArchivePath.empty() ? defaultRuntimeArchive(target) : runtimeArchivePath.getValue();
  options.cacheDir = cacheDir.empty() ? defaultCacheDir() : cacheDir.getValue();
  options.jobs = jobs ? jobs : std::max(1u, std::thread::hardware_concurrency());
  options.training = training;
  options.momentum = sgdMomentum;
  options.weightDecay = weightDecay;
  options.allreduceBucketBytes = allreduceBucketBytes();
  options.syncBatchNormRanks = syncBatchNormRanks;
  return options;
}

int runCompileLibrary(mlir::ModuleOp module) {
  LibraryOptions options =
      libraryOptions(compileInput, compileOutput == "-" ? "." : compileOutput.getValue(), train);
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
  if (!(allreduceBucketMb > 0) || syncBatchNormRanks < 0)
    return fail("--allreduce-bucket-mb must be positive and --sync-bn-ranks at least 0");
  if (probeResponses && train)
    return fail("--probe-responses compiles an inference library: leave out --train");
  LoadedModel model(context);
  if (!model.load(compileInput, batch, networkName, inputOverride))
    return 1;
  if (probeResponses && !model.makeResponsesProbe())
    return 1;
  if (emit == Emit::Lib)
    return runCompileLibrary(model.get());
  if (emit == Emit::RnExpanded && failed(expandModel(model.get())))
    return 1;
  if (emit == Emit::RnInference && failed(prepareForInference(model.get())))
    return 1;
  bool codegen = emit == Emit::RnCodegen || emit == Emit::Kernels || emit == Emit::Llvm ||
                 emit == Emit::LlvmIr || emit == Emit::Obj;
  if (codegen &&
      failed(train ? prepareForTraining(model.get(), {sgdMomentum, weightDecay,
                                                      allreduceBucketBytes(), syncBatchNormRanks})
                   : prepareForCodegen(model.get())))
    return 1;
  std::string error;
  auto output = mlir::openOutputFile(compileOutput, &error);
  if (!output)
    return fail(error);
  if (emit == Emit::Kernels || emit == Emit::Llvm || emit == Emit::LlvmIr || emit == Emit::Obj) {
    const TargetDescription *description = codegen::lookupTarget(target, error);
    if (!description)
      return fail(error);
    mlir::FailureOr<codegen::KernelPlan> plan = planLibrary(model.get(), train, *description);
    if (failed(plan))
      return 1;
    if (emit == Emit::Kernels) {
      codegen::printKernelPlan(output->os(), *plan);
      output->keep();
      return 0;
    }
    auto orchestration = buildLibraryOrchestration(context, *plan, *description, error);
    if (!orchestration)
      return fail(error);
    if (emit == Emit::Llvm) {
      orchestration->print(output->os());
    } else {
      std::string triple = codegen::llvmTriple(*description);
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
  if (!model.load(initInput, 1, networkName, inputOverride) || failed(expandModel(model.get())))
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

/// `resnetc targets`: what --target accepts, whether each target's runtime
/// is installed, and the Halide target `host` means on this machine.
int runTargets() {
  std::string kernelgen = defaultKernelgenPath(), error;
  std::string hostTarget = codegen::resolveTarget(kernelgen, "host", error);
  if (hostTarget.empty())
    hostTarget = "(unknown: " + kernelgen + " did not answer)";
  outs() << "Targets (--target takes a Halide target string; targets/<name>/ describes each):\n";
  for (const TargetDescription &description : registeredTargets()) {
    outs() << formatv("  {0,-26} {1}\n", description.usage, description.summary);
    if (!description.optionalFeatures.empty())
      outs() << formatv("  {0,-26} features: {1}\n", "", description.optionalFeatures);
    std::string archive = defaultRuntimeArchive(description.name);
    outs() << formatv("  {0,-26} runtime: {1}{2}\n", "", archive,
                      sys::fs::exists(archive) ? "" : " (missing: see docs/targets.md)");
  }
  outs() << "\n"
         << "This machine (host): " << hostTarget << "\n";
  return 0;
}

/// `resnetc train`'s checks that need the network but not its library: the
/// data set against its input and classes, and a checkpoint to resume
/// against the network (its name and architecture; on the rank that holds the
/// run's folder).
bool checkBeforeCompiling(mlir::ModuleOp module, const train::TrainerOptions &t,
                          bool holdsRunFolder) {
  auto forward = module.lookupSymbol<mlir::func::FuncOp>(rn::kForwardFunction);
  auto input = cast<mlir::ShapedType>(forward.getArgumentTypes()[0]).getShape();
  int64_t classes = cast<mlir::ShapedType>(forward.getResultTypes()[0]).getShape()[1];
  std::string error;
  if (!train::checkDataFitsModel(t, input[1], input[2], input[3], classes, error)) {
    fail(error);
    return false;
  }
  if (!t.resume || !holdsRunFolder)
    return true;
  std::string path = train::runFile(t.checkpointDir, "checkpoint.rnw");
  mlir::OwningOpRef<mlir::ModuleOp> expanded = module.clone();
  if (failed(expandModel(*expanded)))
    return false;
  WeightsFile checkpoint;
  if (!readWeightsFile(path, checkpoint, error) ||
      !checkArchitecture(checkpoint,
                         module->getAttrOfType<mlir::StringAttr>(rn::kModelNameAttr).str(),
                         architectureHash(*expanded), error)) {
    fail(path + ": " + error);
    return false;
  }
  return true;
}

/// `resnetc train` as one rank of several: MPI started by mpirun.
std::unique_ptr<distributed::MpiCommunicator> startRanks(std::string &error) {
  if (!distributed::launchedAsRanks())
    return nullptr;
  return distributed::MpiCommunicator::start(rankTimeout, error);
}

int runTrain(mlir::MLIRContext &context) {
  if (trainBatch <= 0 || trainBatch > (int64_t(1) << 16))
    return fail("--batch must be between 1 and 65536, got " + Twine(trainBatch.getValue()));
  if (!(allreduceBucketMb > 0) || !(rankTimeout > 0))
    return fail("--allreduce-bucket-mb and --rank-timeout must be positive");
  train::TrainerOptions t = trainerOptions;
  t.seed = seed;
  std::string error;
  if (!train::checkTrainerOptions(t, error)) // before the minutes a compilation may take
    return fail(error);
  std::unique_ptr<distributed::MpiCommunicator> mpi = startRanks(error);
  if (!mpi && !error.empty())
    return fail(error);
  train::Ranks ranks(mpi ? mpi->table() : nullptr);
  t.communicator = mpi ? mpi->table() : nullptr;
  // A rank that fails stops the others at once instead of leaving them waiting.
  auto stop = [&](int status) {
    if (status != 0 && !ranks.alone())
      mpi->abort(status);
    return status;
  };
  if (trainBatch % ranks.size() != 0)
    return stop(fail("--batch " + Twine(trainBatch.getValue()) +
                     " (the global batch) does not "
                     "split evenly over " +
                     Twine(ranks.size()) + " ranks"));

  LoadedModel model(context);
  if (!model.load(trainInput, trainBatch / ranks.size(), networkName, inputOverride) ||
      !model.requireClassifier("train"))
    return stop(1);
  std::string modelName = model.get()->getAttrOfType<mlir::StringAttr>("rn.model").str();
  if (t.checkpointDir.empty())
    t.checkpointDir = "runs/" + modelName;
  // What can be checked without the library, before the seconds it takes to build.
  if (!checkBeforeCompiling(model.get(), t, ranks.leader()))
    return stop(1);
  // Rank 0 compiles into the run's folder; then the other ranks, each into a
  // folder of its own, with rank 0's kernels from the cache where they share it.
  std::string outputDir = train::runFile(t.checkpointDir, "model");
  SmallString<128> rankDir;
  if (!ranks.leader()) {
    if (std::error_code ec =
            sys::fs::createUniqueDirectory("resnetc-rank" + std::to_string(ranks.rank()), rankDir))
      return stop(
          fail("cannot create a folder for rank " + Twine(ranks.rank()) + ": " + ec.message()));
    outputDir = rankDir.str().str();
  }
  auto removeRankDir = llvm::make_scope_exit([&] {
    if (!rankDir.empty())
      sys::fs::remove_directories(rankDir);
  });
  LibraryOptions options = libraryOptions(trainInput, outputDir, true);
  // One process computes the whole batch's statistics anyway: no stages needed.
  options.syncBatchNormRanks = syncBatchNorm && !ranks.alone() ? ranks.size() : 0;
  LibraryReport report;
  train::ModelApi api;
  bool compiled = true;
  if (ranks.leader())
    compiled = compileLibrary(model.get(), options, report, error);
  if (!ranks.allOk(compiled, error))
    return stop(error.empty() ? 1 : fail(error));
  if (!ranks.leader() && !compileLibrary(model.get(), options, report, error))
    return stop(error.empty() ? 1 : fail(error));
  if (!loadSharedModel(report, linker, api, error))
    return stop(fail(error));
  if (ranks.leader()) {
    outs() << formatv("resnetc: {0}: compiled with its training step in {1:F1} s ({2} kernels, "
                      "arena {3} MiB, momentum {4:F2}, weight decay {5:e1}) -> {6}\n",
                      options.sourceName, report.seconds, report.kernels, report.arenaBytes >> 20,
                      sgdMomentum.getValue(), weightDecay.getValue(), t.checkpointDir);
    outs().flush();
  }
  t.initialWeights = report.weights;
  int status = train::runTrainer(api, t, "resnetc");
  if (status == 0 && mpi) {
    distributed::MpiCommunicator::Statistics s = mpi->statistics();
    outs() << formatv("resnetc: rank {0}: {1} gradient allreduces, {2:F2} s on the "
                      "communication thread, {3:F2} s waited for by the training steps\n",
                      ranks.rank(), s.sums, s.sumSeconds, s.waitSeconds);
  }
  return stop(status);
}

} // namespace

/// MLIR's pass-manager options (--mlir-print-ir-after-all, --mlir-pass-statistics,
/// ...), which the pipelines apply, as options of `compile`.
cl::OptionCategory &registerPassManagerOptions() {
  static cl::OptionCategory mlirCategory("MLIR pass-manager options (compile)");
  // The passes by name, for --mlir-print-ir-after=rn-fold-batch-norm and the like.
  resnetc::registerResnetcPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  registerPipelineCLOptions();
  std::vector<cl::Option *> options;
  for (auto &entry : cl::getRegisteredOptions(cl::SubCommand::getTopLevel()))
    if (entry.first.starts_with("mlir-"))
      options.push_back(entry.second);
  for (cl::Option *option : options) {
    option->removeArgument();
    option->addSubCommand(compileCommand);
    option->addCategory(mlirCategory);
    option->addArgument();
  }
  return mlirCategory;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::OptionCategory &mlirCategory = registerPassManagerOptions();
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "resnetc " << RESNETC_VERSION << " (MLIR " << LLVM_VERSION_STRING << ")\n";
  });
  cl::HideUnrelatedOptions({&category, &mlirCategory});
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
  if (trainCommand)
    return runTrain(context);
  if (targetsCommand)
    return runTargets();
  for (tool::Command *command : {&tool::infoCommand, &tool::importCommand, &tool::exportCommand,
                                 &tool::evalCommand, &tool::predictCommand, &tool::analyzeCommand})
    if (command->subCommand)
      return command->run(context);
  return fail("no command given: use stats, compile, init, train, info, import, export, eval, "
              "predict, analyze or targets (see resnetc --help)");
}
