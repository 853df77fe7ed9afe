//===- ToolSupport.cpp - What the resnetc subcommands share ---------------===//

#include "ToolSupport.h"

#include "resnetc/Frontend/ModelImporter.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace resnetc;

cl::OptionCategory &tool::optionCategory() {
  static cl::OptionCategory category("resnetc options");
  return category;
}

int tool::fail(const Twine &message) {
  WithColor::error(errs(), "resnetc") << message << "\n";
  return 1;
}

tool::LoadedModel::LoadedModel(mlir::MLIRContext &context)
    : context(context), handler(sourceMgr, &context) {}

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
