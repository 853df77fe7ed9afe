//===- Parser.h - Parser of the .rn language --------------------*- C++ -*-===//

#ifndef RESNETC_DSL_PARSER_H
#define RESNETC_DSL_PARSER_H

#include "resnetc/dsl/AST.h"

#include "llvm/Support/SourceMgr.h"

#include <optional>

namespace resnetc::dsl {

/// Parses buffer `bufferId` of `sourceMgr`. On a syntax error, prints
/// `file:line:col: error: ...` with the line and a caret through the
/// SourceMgr and returns nothing.
std::optional<Program> parseProgram(llvm::SourceMgr &sourceMgr, unsigned bufferId);

/// The blocks every program can use (basic, bottleneck, pre-activation, ...),
/// written in the language itself.
llvm::StringRef preludeSource();
inline constexpr const char *kPreludeBufferName = "<prelude>";

} // namespace resnetc::dsl

#endif // RESNETC_DSL_PARSER_H
