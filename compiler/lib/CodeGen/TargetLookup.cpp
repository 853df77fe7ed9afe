//===- TargetLookup.cpp - --target strings to target descriptions ---------===//

#include "resnetc/CodeGen/TargetLookup.h"

#include "llvm/TargetParser/Host.h"

using namespace resnetc;

const TargetDescription *codegen::lookupTarget(llvm::StringRef target, std::string &error) {
  if (const TargetDescription *description = findTarget(target.str()))
    return description;
  error = "unsupported target '" + target.str() + "' (supported: " + supportedTargetsText() +
          "; see resnetc targets)";
  return nullptr;
}

std::string codegen::llvmTriple(const TargetDescription &target) {
  return target.llvmTriple.empty() ? llvm::sys::getDefaultTargetTriple() : target.llvmTriple;
}
