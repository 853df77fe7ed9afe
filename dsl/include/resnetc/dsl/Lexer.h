//===- Lexer.h - Tokens of the .rn language ---------------------*- C++ -*-===//

#ifndef RESNETC_DSL_LEXER_H
#define RESNETC_DSL_LEXER_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>

namespace resnetc::dsl {

enum class TokenKind {
  Eof,
  Error, ///< Lexing failed; the token's text is the message.
  Identifier,
  Integer,
  Real, ///< A decimal fraction, e.g. 0.3 or 1.5.
  Dims, ///< Sizes joined by 'x', e.g. 3x3 or 3x224x224.
  LParen,
  RParen,
  LBrace,
  RBrace,
  Comma,
  Semicolon,
  Equal,
  Plus,
  Minus,
  Star,
  Slash,
  KwLet,
  KwBlock,
  KwNetwork,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  llvm::StringRef text;               ///< The source text (for Error: the message).
  llvm::SMLoc loc;                    ///< Where the token starts.
  int64_t value = 0;                  ///< For Integer.
  double real = 0;                    ///< For Real.
  llvm::SmallVector<int64_t, 4> dims; ///< For Dims.

  bool is(TokenKind k) const { return kind == k; }
};

/// Splits a buffer into tokens. Comments run from '#' or '//' to the end of
/// the line. Integers are checked for overflow so that later arithmetic never
/// sees a wrapped value.
class Lexer {
public:
  /// A UTF-8 byte-order mark, which some editors write, is skipped.
  explicit Lexer(llvm::StringRef buffer)
      : buffer(buffer), cursor(buffer.begin() + (buffer.starts_with("\xEF\xBB\xBF") ? 3 : 0)) {}
  Token next();

  /// The largest integer literal the language accepts.
  static constexpr int64_t kMaxInteger = int64_t(1) << 40;

private:
  Token make(TokenKind kind, const char *start);
  Token error(const char *at, llvm::StringRef message);
  Token lexNumber(const char *start);
  void skipSpaceAndComments();

  llvm::StringRef buffer;
  const char *cursor;
};

const char *spell(TokenKind kind);

} // namespace resnetc::dsl

#endif // RESNETC_DSL_LEXER_H
