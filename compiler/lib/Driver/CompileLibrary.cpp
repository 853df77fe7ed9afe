//===- CompileLibrary.cpp - model.rn to lib<model>.a, <model>.h, .rnw -----===//

#include "resnetc/Driver/CompileLibrary.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/CodeGen/KernelCompiler.h"
#include "resnetc/CodeGen/KernelPlan.h"
#include "resnetc/CodeGen/ModelLibrary.h"
#include "resnetc/CodeGen/ObjectEmitter.h"
#include "resnetc/CodeGen/Orchestration.h"
#include "resnetc/CodeGen/TargetLookup.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Weights/CheckWeights.h"
#include "resnetc/Weights/InitializeWeights.h"
#include "resnetc/runtime/AtomicFile.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <chrono>

using namespace resnetc;

namespace {

std::string executableDir() {
  // Any function's address identifies this executable.
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  return llvm::sys::path::parent_path(exe).str();
}

/// Like every output, written atomically (llvm::writeArchive is too).
bool writeText(const std::string &path, llvm::function_ref<void(llvm::raw_ostream &)> write,
               std::string &error) {
  std::string text;
  llvm::raw_string_ostream os(text);
  write(os);
  return writeFileAtomically(path, text.data(), text.size(), error);
}

} // namespace

std::string resnetc::defaultKernelgenPath() { return executableDir() + "/resnetc-kernelgen"; }

std::string resnetc::defaultRuntimeArchive(const std::string &target) {
  std::string folder = executableDir() + "/../lib";
  if (const TargetDescription *description = findTarget(target);
      description && !description->runtimeFolder.empty())
    folder += "/" + description->runtimeFolder;
  return folder + "/libResnetcModelRuntime.a";
}

std::string resnetc::defaultCacheDir() {
  if (std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME"))
    return *xdg + "/resnetc";
  llvm::SmallString<128> home;
  if (llvm::sys::path::home_directory(home))
    return (home + "/.cache/resnetc").str();
  return ".resnetc-cache";
}

namespace {

/// A context's activations are capped at 64 GiB: found here, before minutes
/// of kernel compilation. (The plan refuses a tensor too large for a kernel,
/// on its layer.)
bool checkPlanSizes(const codegen::KernelPlan &plan, std::string &error) {
  constexpr int64_t kMaxArenaBytes = int64_t(64) << 30;
  auto gib = [](int64_t bytes) {
    return llvm::formatv("{0:F1} GiB", double(bytes) / (1 << 30)).str();
  };
  if (plan.arenaBytes > kMaxArenaBytes) {
    error = "the activations of one " + std::string(plan.train.empty() ? "run" : "training step") +
            " need " + gib(plan.arenaBytes) + ", more than the limit of " + gib(kMaxArenaBytes) +
            ": lower --batch or the input size";
    return false;
  }
  return true;
}

} // namespace

mlir::FailureOr<codegen::KernelPlan> resnetc::planLibrary(mlir::ModuleOp module, bool training,
                                                          const TargetDescription &target) {
  codegen::PlanOptions planOptions;
  planOptions.training = training;
  planOptions.bufferAlignment = target.bufferAlignment;
  planOptions.winogradFilters = !training && target.scheduler == SchedulerKind::Cpu;
  return codegen::planKernels(module, planOptions);
}

mlir::OwningOpRef<mlir::ModuleOp>
resnetc::buildLibraryOrchestration(mlir::MLIRContext &context, const codegen::KernelPlan &plan,
                                   const TargetDescription &target, std::string &error) {
  mlir::OwningOpRef<mlir::ModuleOp> orchestration =
      codegen::buildOrchestration(context, plan, target.deviceInterface);
  if (failed(mlir::verify(*orchestration))) {
    error = "internal error: the orchestration code does not verify";
    return nullptr;
  }
  return orchestration;
}

bool resnetc::compileLibrary(mlir::ModuleOp module, const LibraryOptions &options,
                             LibraryReport &report, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  const TargetDescription *target = codegen::lookupTarget(options.target, error);
  if (!target)
    return false;
  std::string triple = codegen::llvmTriple(*target);

  if (!llvm::sys::fs::exists(options.runtimeArchive)) {
    error = "no resnetc runtime for target '" + options.target + "' (" + options.runtimeArchive +
            " is missing)" + (target->runtimeHint.empty() ? "" : ": " + target->runtimeHint);
    return false;
  }

  // Weights first: they need the module before inference rewrites it.
  if (failed(expandModel(module)))
    return false;
  WeightsFile weights;
  if (!options.weightsFile.empty()) {
    if (!readWeightsFile(options.weightsFile, weights, error))
      return false;
    if (!checkWeightsForModule(weights, module, options.weightsFile, error))
      return false;
  } else {
    int64_t values = countWeightValues(module);
    if (values > kMaxWeightBytes / int64_t(sizeof(float))) {
      error = "the model has " + std::to_string(values) + " weight values, more than " +
              std::to_string(kMaxWeightBytes >> 20) + " MiB";
      return false;
    }
    weights = initializeWeights(module, options.seed);
  }

  if (failed(options.training ? prepareForTraining(module, {options.momentum, options.weightDecay,
                                                            options.allreduceBucketBytes,
                                                            options.syncBatchNormRanks})
                              : prepareForCodegen(module)))
    return false;
  mlir::FailureOr<codegen::KernelPlan> plan = planLibrary(module, options.training, *target);
  if (failed(plan))
    return false;
  if (!checkPlanSizes(*plan, error))
    return false;

  codegen::KernelCompileOptions kernelOptions;
  kernelOptions.target = options.target;
  kernelOptions.kernelgen = options.kernelgen;
  kernelOptions.cacheDir = options.cacheDir;
  kernelOptions.jobs = options.jobs;
  codegen::KernelObjects objects;
  if (!codegen::compileKernels(*plan, kernelOptions, objects, error))
    return false;

  mlir::OwningOpRef<mlir::ModuleOp> orchestration =
      buildLibraryOrchestration(*module.getContext(), *plan, *target, error);
  if (!orchestration)
    return false;
  llvm::SmallVector<char, 0> object;
  if (failed(codegen::emitObject(*orchestration, triple, object, error)))
    return false;

  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir)) {
    error = "cannot create " + options.outputDir + ": " + ec.message();
    return false;
  }
  const std::string &name = plan->model;
  auto inOutput = [&](const std::string &file) {
    llvm::SmallString<256> path(options.outputDir);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  report.archive = inOutput("lib" + name + ".a");
  report.header = inOutput(name + ".h");
  report.weights = inOutput(name + ".rnw");
  std::vector<std::string> kernelNames;
  for (const codegen::KernelDef &kernel : plan->kernels)
    kernelNames.push_back(kernel.name);
  if (!codegen::writeModelArchive(report.archive, name, object, objects.kernels, kernelNames,
                                  objects.halideRuntime, options.runtimeArchive, error))
    return false;
  if (!writeText(
          report.header,
          [&](llvm::raw_ostream &os) { codegen::writeModelHeader(os, *plan, options.sourceName); },
          error))
    return false;
  if (!writeWeightsFile(report.weights, weights, error))
    return false;

  report.kernels = plan->kernels.size();
  report.kernelsBuilt = objects.built;
  report.kernelsCached = objects.cached;
  report.arenaBytes = plan->arenaBytes;
  report.weightsBytes = plan->weightsBytes;
  report.model = name;
  report.inputShape = plan->inputShape;
  report.outputShape = plan->outputShape;
  report.training = options.training;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}
