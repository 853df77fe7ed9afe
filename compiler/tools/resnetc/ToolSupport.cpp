//===- ToolSupport.cpp - What the resnetc subcommands share ---------------===//

#include "ToolSupport.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Unicode.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace resnetc;

cl::OptionCategory &tool::optionCategory() {
  static cl::OptionCategory category("resnetc options");
  return category;
}

tool::ModelOptions::ModelOptions(cl::SubCommand &subCommand, const char *modelHelp)
    : model("model", cl::desc(modelHelp), cl::value_desc("model.rn"), cl::sub(subCommand),
            cl::cat(optionCategory())),
      network("network", cl::desc("The network to use when a file has several"),
              cl::value_desc("name"), cl::sub(subCommand), cl::cat(optionCategory())),
      inputSize("input", cl::desc("Replace the network's input size, e.g. 3x64x64"),
                cl::value_desc("CxHxW"), cl::sub(subCommand), cl::cat(optionCategory())) {}

int tool::fail(const Twine &message) {
  WithColor::error(errs(), "resnetc") << message << "\n";
  return 1;
}

namespace {

/// Prints a diagnostic like SMDiagnostic::print, but places the caret by
/// display column on lines with non-ASCII text, where LLVM prints none
/// (UTF-8 in a comment or a name shifts the bytes against the columns).
void printDiagnostic(const SMDiagnostic &diagnostic, void *) {
  StringRef line = diagnostic.getLineContents();
  if (diagnostic.getLineNo() <= 0 || diagnostic.getColumnNo() < 0 ||
      llvm::all_of(line, [](char c) { return isASCII(c); })) {
    diagnostic.print(nullptr, errs());
    return;
  }
  raw_ostream &os = errs();
  bool colors = os.has_colors();
  ColorMode mode = colors ? ColorMode::Enable : ColorMode::Disable;
  {
    WithColor bold(os, raw_ostream::SAVEDCOLOR, /*Bold=*/true, /*BG=*/false, mode);
    os << diagnostic.getFilename() << ":" << diagnostic.getLineNo() << ":"
       << diagnostic.getColumnNo() + 1 << ": ";
  }
  switch (diagnostic.getKind()) {
  case SourceMgr::DK_Error:
    WithColor::error(os, "", !colors);
    break;
  case SourceMgr::DK_Warning:
    WithColor::warning(os, "", !colors);
    break;
  case SourceMgr::DK_Remark:
    WithColor::remark(os, "", !colors);
    break;
  case SourceMgr::DK_Note:
    WithColor::note(os, "", !colors);
    break;
  }
  {
    WithColor bold(os, raw_ostream::SAVEDCOLOR, /*Bold=*/true, /*BG=*/false, mode);
    os << diagnostic.getMessage() << "\n";
  }
  os << line << "\n";
  size_t column = std::min<size_t>(size_t(diagnostic.getColumnNo()), line.size());
  int width = sys::unicode::columnWidthUTF8(line.take_front(column));
  os.indent(width < 0 ? column : unsigned(width));
  WithColor(os, raw_ostream::GREEN, /*Bold=*/true, /*BG=*/false, mode) << "^";
  os << "\n";
}

} // namespace

tool::LoadedModel::LoadedModel(mlir::MLIRContext &context)
    : context(context), handler(sourceMgr, &context) {
  sourceMgr.setDiagHandler(printDiagnostic);
}

bool tool::LoadedModel::load(StringRef path, int64_t batchSize, StringRef network,
                             StringRef inputOverride) {
  std::string error;
  auto file = mlir::openInputFile(path, &error);
  if (!file) {
    fail(error);
    return false;
  }
  // Real models are a few KiB: a bound keeps memory and time in check.
  constexpr size_t kMaxModelFileBytes = size_t(16) << 20;
  if (file->getBufferSize() > kMaxModelFileBytes) {
    fail(path + " is " + Twine(file->getBufferSize() >> 20) +
         " MiB; model files are limited to 16 MiB");
    return false;
  }
  // A binary file would be echoed to the terminal as the "source line" of
  // the first error: say what it is instead.
  if (size_t nul = file->getBuffer().find('\0'); nul != StringRef::npos) {
    fail(path + " is not a text file (it holds a NUL byte at offset " + Twine(nul) +
         "): a model is a .rn text file");
    return false;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
  ImportOptions options;
  options.batch = batchSize;
  options.network = network.str();
  if (!inputOverride.empty()) {
    SmallVector<StringRef, 3> parts;
    inputOverride.split(parts, 'x');
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
  std::string optionError;
  options.optionError = &optionError;
  module = importModel(context, sourceMgr, options);
  if (!optionError.empty())
    fail(optionError + " (--network)");
  return module && succeeded(mlir::verify(*module));
}

bool tool::LoadedModel::requireClassifier(StringRef command) {
  if (!(*module)->hasAttr(rn::kOutputNamesAttr))
    return true;
  fail(command + ": network '" +
       (*module)->getAttrOfType<mlir::StringAttr>(rn::kModelNameAttr).getValue() +
       "' has named outputs and no classifier, so it has no class scores to " +
       (command == "train" ? "train on" : "use") +
       "; compile it and call its library (run, train_forward, train_backward)");
  return false;
}

bool tool::LoadedModel::makeResponsesProbe() {
  // The weights' hash is that of the expanded network, as compileLibrary
  // records it; on a copy, since compileLibrary expands the module itself.
  mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
  if (failed(expandModel(*copy)))
    return false;
  uint64_t hash = architectureHash(*copy);
  mlir::PassManager pm(&context);
  pm.addPass(createProbeResponses());
  if (failed(pm.run(*module)))
    return false;
  setWeightsArchitectureHash(*module, hash);
  return true;
}
