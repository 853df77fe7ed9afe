//===- AST.h - Syntax tree of the .rn language ------------------*- C++ -*-===//
//
// The parser's output: what was written, with source locations, nothing
// evaluated. The elaborator (compiler/lib/Frontend) gives it meaning.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DSL_AST_H
#define RESNETC_DSL_AST_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/SMLoc.h"

#include <memory>
#include <string>
#include <vector>

namespace resnetc::dsl {

struct Expr {
  enum class Kind { Integer, Real, Dims, Name, Negate, Binary };
  Kind kind;
  llvm::SMLoc loc;                    ///< Where the expression starts.
  llvm::SMLoc opLoc;                  ///< Binary and Negate: the operator.
  int64_t value = 0;                  ///< Integer.
  double real = 0;                    ///< Real.
  llvm::SmallVector<int64_t, 4> dims; ///< Dims.
  std::string name;                   ///< Name.
  char op = 0;                        ///< Binary: one of + - * /.
  std::unique_ptr<Expr> lhs, rhs;     ///< Negate uses lhs.
};

struct Argument {
  std::string name; ///< Empty for a positional argument.
  llvm::SMLoc loc;
  std::unique_ptr<Expr> value;
};

/// One statement of a body: a layer, a block or builtin call (with an
/// optional body, as in `residual { ... }`), `let name = expr`, or a setting
/// `name = expr[, expr...]` (network bodies only).
struct Statement {
  enum class Kind { Call, Let, Setting };
  Kind kind;
  llvm::SMLoc loc;
  std::string name;            ///< Callee, or the bound name.
  std::vector<Argument> args;  ///< Call.
  std::unique_ptr<Expr> value; ///< Let and Setting.
  /// A setting given a list (`outputs = stage2, stage3`): the values after the first.
  std::vector<std::unique_ptr<Expr>> moreValues;
  bool hasBody = false;
  std::vector<Statement> body;
};

struct Parameter {
  std::string name;
  llvm::SMLoc loc;
  std::unique_ptr<Expr> defaultValue; ///< Null when the parameter is required.
};

struct BlockDef {
  std::string name;
  llvm::SMLoc loc;
  std::vector<Parameter> params;
  std::vector<Statement> body;
};

struct NetworkDef {
  std::string name;
  llvm::SMLoc loc;
  std::vector<Statement> body;
};

struct Program {
  std::vector<Statement> lets; ///< Top-level constants, in order.
  std::vector<BlockDef> blocks;
  std::vector<NetworkDef> networks;
};

} // namespace resnetc::dsl

#endif // RESNETC_DSL_AST_H
