//===- Prelude.cpp - The built-in blocks, written in .rn ------------------===//

#include "resnetc/dsl/Parser.h"

llvm::StringRef resnetc::dsl::preludeSource() {
  static const char text[] =
#include "PreludeText.inc"
      ;
  return llvm::StringRef(text, sizeof(text) - 1);
}
