//===- TargetLookup.h - --target strings to target descriptions -*- C++ -*-===//
//
// The compiler's side of the target registry (targets/registry): what a
// --target string selects, and the LLVM triple of its orchestration code.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_TARGETLOOKUP_H
#define RESNETC_CODEGEN_TARGETLOOKUP_H

#include "resnetc/Target/TargetDescription.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace resnetc::codegen {

/// The description --target `target` selects, or null with `error` listing
/// the supported targets.
const TargetDescription *lookupTarget(llvm::StringRef target, std::string &error);

/// The orchestration code's LLVM triple: the description's, or the host's.
std::string llvmTriple(const TargetDescription &target);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_TARGETLOOKUP_H
