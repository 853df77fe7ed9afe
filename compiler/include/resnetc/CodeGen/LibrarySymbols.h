//===- LibrarySymbols.h - What a generated library exports ------*- C++ -*-===//
//
// A generated library defines only three families of global symbols (the
// rule of docs/generated-library.md, "Symbols"): the model's C API and kernels
// (`<model>_*`), resnetc's runtime entry points (`resnetc_rt_*`) and Halide's
// runtime (`halide_*`). Everything else in its objects (resnetc:: C++ code,
// FlatBuffers and libstdc++ instantiations, Halide's internals) is made local,
// so libraries from different resnetc versions link into one program.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_LIBRARYSYMBOLS_H
#define RESNETC_CODEGEN_LIBRARYSYMBOLS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <string>
#include <vector>

namespace resnetc::codegen {

/// The glob patterns of the global symbols lib<model>.a may define.
std::vector<std::string> exportedSymbolPatterns(llvm::StringRef model);

/// Rewrites each ELF object so that its defined global symbols outside
/// exportedSymbolPatterns(model) are local, and dissolves its section groups
/// (a group whose symbols are local must not be deduplicated against another
/// program's copy). Undefined symbols stay as they are. `hidden` receives the
/// objects in the same order. Fails, naming the symbol and both objects, when
/// one object uses a symbol that another defines and the rule would hide: such
/// objects must first become one (the runtime archive is one relocatable
/// object for this reason, runtime/CMakeLists.txt).
bool hideLibrarySymbols(llvm::StringRef model, llvm::ArrayRef<llvm::MemoryBufferRef> objects,
                        std::vector<llvm::SmallVector<char, 0>> &hidden, std::string &error);

/// Renames every symbol of an ELF object whose name starts with `from` to
/// start with `to` instead: a kernel object from the cache, compiled under
/// one shared name, becomes `<model>_k<n>` (with its `_argv`, `_metadata`
/// and parallel-loop symbols).
bool renameSymbolPrefix(llvm::MemoryBufferRef object, llvm::StringRef from, llvm::StringRef to,
                        llvm::SmallVector<char, 0> &renamed, std::string &error);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_LIBRARYSYMBOLS_H
