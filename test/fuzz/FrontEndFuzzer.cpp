//===- FrontEndFuzzer.cpp - libFuzzer target: the whole front end ---------===//
//
// One input is one .rn file: parse, import into the rn dialect, verify,
// expand shortcuts, count parameters and multiply-adds (what `resnetc stats`
// does). Any outcome is fine except a crash, a hang, a leak or a sanitizer
// report. Diagnostics are rendered (into nothing) so their code runs too.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Driver/Pipelines.h"
#include "resnetc/Frontend/ModelImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: nothing uniqued by one input leaks into the
  // next, so the fuzzer's leak and memory checks see each input alone.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.loadDialect<resnetc::rn::RnDialect>();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.rn"),
      llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::nulls());
  resnetc::ImportOptions options;
  options.batch = 1;
  mlir::OwningOpRef<mlir::ModuleOp> module = resnetc::importModel(context, sourceMgr, options);
  if (module && mlir::succeeded(mlir::verify(*module)) &&
      mlir::succeeded(resnetc::expandModel(*module)))
    (void)resnetc::computeStats(*module);
  return 0;
}
