//===- ObjectEmitter.cpp - LLVM dialect to a relocatable object -----------===//

#include "resnetc/CodeGen/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <mutex>

using namespace mlir;

namespace {

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(llvm::StringRef tripleName,
                                                       std::string &error) {
  static std::once_flag initialised;
  std::call_once(initialised, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
  llvm::Triple triple(tripleName);
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  // Generic CPU: the orchestration code only calls kernels; the kernels
  // carry the target's vector features.
  return std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, "generic", "", options, llvm::Reloc::PIC_, std::nullopt,
                                  llvm::CodeGenOptLevel::Default));
}

std::unique_ptr<llvm::Module> translate(ModuleOp module, llvm::LLVMContext &llvmContext,
                                        llvm::TargetMachine &machine) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return nullptr;
  llvmModule->setTargetTriple(machine.getTargetTriple());
  llvmModule->setDataLayout(machine.createDataLayout());
  return llvmModule;
}

} // namespace

/// The module as LLVM IR for `triple`, with the machine that compiles it.
struct Translated {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::Module> module;
};

static LogicalResult translateFor(ModuleOp module, llvm::StringRef triple,
                                  llvm::LLVMContext &llvmContext, Translated &out,
                                  std::string &error) {
  out.machine = makeTargetMachine(triple, error);
  if (!out.machine)
    return failure();
  out.module = translate(module, llvmContext, *out.machine);
  if (!out.module) {
    error = "cannot translate the orchestration code to LLVM IR";
    return failure();
  }
  return success();
}

LogicalResult resnetc::codegen::emitObject(ModuleOp module, llvm::StringRef triple,
                                           llvm::SmallVectorImpl<char> &object,
                                           std::string &error) {
  llvm::LLVMContext llvmContext;
  Translated translated;
  if (failed(translateFor(module, triple, llvmContext, translated, error)))
    return failure();
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager passes;
  if (translated.machine->addPassesToEmitFile(passes, os, nullptr,
                                              llvm::CodeGenFileType::ObjectFile)) {
    error = "LLVM cannot emit objects for " + triple.str();
    return failure();
  }
  passes.run(*translated.module);
  return success();
}

LogicalResult resnetc::codegen::emitLlvmIr(ModuleOp module, llvm::StringRef triple,
                                           llvm::raw_ostream &os, std::string &error) {
  llvm::LLVMContext llvmContext;
  Translated translated;
  if (failed(translateFor(module, triple, llvmContext, translated, error)))
    return failure();
  translated.module->print(os, nullptr);
  return success();
}
