//===- Lexer.cpp - Tokens of the .rn language -----------------------------===//

#include "resnetc/dsl/Lexer.h"

#include "llvm/ADT/StringSwitch.h"

using namespace resnetc::dsl;

namespace {
bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
} // namespace

Token Lexer::make(TokenKind kind, const char *start) {
  Token token;
  token.kind = kind;
  token.text = llvm::StringRef(start, cursor - start);
  token.loc = llvm::SMLoc::getFromPointer(start);
  return token;
}

Token Lexer::error(const char *at, llvm::StringRef message) {
  Token token;
  token.kind = TokenKind::Error;
  token.text = message;
  token.loc = llvm::SMLoc::getFromPointer(at);
  cursor = buffer.end(); // Stop: the parser reports the first error only.
  return token;
}

void Lexer::skipSpaceAndComments() {
  while (cursor != buffer.end()) {
    char c = *cursor;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++cursor;
    } else if (c == '#' || (c == '/' && cursor + 1 != buffer.end() && cursor[1] == '/')) {
      while (cursor != buffer.end() && *cursor != '\n')
        ++cursor;
    } else {
      return;
    }
  }
}

Token Lexer::lexNumber(const char *start) {
  llvm::SmallVector<int64_t, 4> parts;
  while (true) {
    const char *partStart = cursor;
    int64_t value = 0;
    while (cursor != buffer.end() && isDigit(*cursor)) {
      value = value * 10 + (*cursor - '0');
      if (value > kMaxInteger)
        return error(partStart, "integer literal is too large (the limit is 2^40)");
      ++cursor;
    }
    parts.push_back(value);
    // '3x3': an 'x' between digits joins sizes.
    if (cursor + 1 < buffer.end() && *cursor == 'x' && isDigit(cursor[1])) {
      ++cursor;
      continue;
    }
    break;
  }
  // '0.3': a fraction (rates); only a lone integer takes one.
  if (parts.size() == 1 && cursor + 1 < buffer.end() && *cursor == '.' && isDigit(cursor[1])) {
    ++cursor;
    // Digits as written, then one division (independent of the C locale).
    double fraction = 0, scale = 1;
    for (; cursor != buffer.end() && isDigit(*cursor) && scale < 1e15; ++cursor) {
      fraction = fraction * 10 + (*cursor - '0');
      scale *= 10;
    }
    while (cursor != buffer.end() && isDigit(*cursor)) // beyond double's precision
      ++cursor;
    if (cursor != buffer.end() && (isIdentChar(*cursor) || *cursor == '.'))
      return error(cursor, "unexpected character after a number");
    Token token = make(TokenKind::Real, start);
    token.real = double(parts.front()) + fraction / scale;
    return token;
  }
  if (cursor != buffer.end() && isIdentChar(*cursor))
    return error(cursor, "unexpected character after a number");
  Token token = make(parts.size() == 1 ? TokenKind::Integer : TokenKind::Dims, start);
  token.value = parts.front();
  if (parts.size() > 1)
    token.dims = parts;
  return token;
}

Token Lexer::next() {
  skipSpaceAndComments();
  const char *start = cursor;
  if (cursor == buffer.end())
    return make(TokenKind::Eof, start);
  char c = *cursor;
  if (isIdentStart(c)) {
    while (cursor != buffer.end() && isIdentChar(*cursor))
      ++cursor;
    llvm::StringRef text(start, cursor - start);
    TokenKind kind = llvm::StringSwitch<TokenKind>(text)
                         .Case("let", TokenKind::KwLet)
                         .Case("block", TokenKind::KwBlock)
                         .Case("network", TokenKind::KwNetwork)
                         .Default(TokenKind::Identifier);
    return make(kind, start);
  }
  if (isDigit(c))
    return lexNumber(start);
  ++cursor;
  switch (c) {
  case '(':
    return make(TokenKind::LParen, start);
  case ')':
    return make(TokenKind::RParen, start);
  case '{':
    return make(TokenKind::LBrace, start);
  case '}':
    return make(TokenKind::RBrace, start);
  case ',':
    return make(TokenKind::Comma, start);
  case ';':
    return make(TokenKind::Semicolon, start);
  case '=':
    return make(TokenKind::Equal, start);
  case '+':
    return make(TokenKind::Plus, start);
  case '-':
    return make(TokenKind::Minus, start);
  case '*':
    return make(TokenKind::Star, start);
  case '/':
    return make(TokenKind::Slash, start);
  default:
    break;
  }
  if (static_cast<unsigned char>(c) >= 0x80)
    return error(start, "unexpected non-ASCII byte (names and numbers are ASCII; "
                        "comments may hold any text)");
  return error(start, "unexpected character");
}

const char *resnetc::dsl::spell(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Error:
    return "invalid token";
  case TokenKind::Identifier:
    return "a name";
  case TokenKind::Integer:
    return "an integer";
  case TokenKind::Real:
    return "a number such as 0.3";
  case TokenKind::Dims:
    return "sizes such as 3x3";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Equal:
    return "'='";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  case TokenKind::KwLet:
    return "'let'";
  case TokenKind::KwBlock:
    return "'block'";
  case TokenKind::KwNetwork:
    return "'network'";
  }
  return "a token";
}
