//===- Parser.cpp - Parser of the .rn language ----------------------------===//
//
// A recursive-descent parser for the grammar in docs/language.md. It stops
// at the first error.
//
//===----------------------------------------------------------------------===//

#include "resnetc/dsl/Parser.h"
#include "resnetc/dsl/Lexer.h"

#include "llvm/ADT/Twine.h"

using namespace resnetc::dsl;

namespace {

/// Bounds recursion so that deeply nested input is an error, not a stack overflow.
constexpr int kMaxNesting = 200;

class Parser {
public:
  Parser(llvm::SourceMgr &sourceMgr, unsigned bufferId)
      : sourceMgr(sourceMgr), lexer(sourceMgr.getMemoryBuffer(bufferId)->getBuffer()) {
    advance();
  }

  std::optional<Program> program();

private:
  void advance() { token = lexer.next(); }
  bool failed() const { return hasError; }
  bool error(llvm::SMLoc loc, const llvm::Twine &message);
  bool expect(TokenKind kind, const char *context);
  bool consumeIf(TokenKind kind) {
    if (!token.is(kind))
      return false;
    advance();
    return true;
  }

  bool blockDef(Program &program);
  bool networkDef(Program &program);
  bool body(std::vector<Statement> &statements, int depth);
  bool statement(std::vector<Statement> &statements, int depth);
  bool letStatement(Statement &stmt);
  std::unique_ptr<Expr> binaryLevel(int depth, TokenKind first, TokenKind second,
                                    std::unique_ptr<Expr> (Parser::*operand)(int));
  std::unique_ptr<Expr> expr(int depth);
  std::unique_ptr<Expr> term(int depth);
  std::unique_ptr<Expr> unary(int depth);
  std::unique_ptr<Expr> primary(int depth);

  llvm::SourceMgr &sourceMgr;
  Lexer lexer;
  Token token;
  bool hasError = false;
};

bool Parser::error(llvm::SMLoc loc, const llvm::Twine &message) {
  if (!hasError)
    sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Error, message);
  hasError = true;
  return false;
}

bool Parser::expect(TokenKind kind, const char *context) {
  if (token.is(TokenKind::Error))
    return error(token.loc, token.text);
  if (!token.is(kind))
    return error(token.loc, llvm::Twine("expected ") + spell(kind) + " " + context + ", found " +
                                (token.is(TokenKind::Eof) ? llvm::Twine("end of file")
                                                          : "'" + token.text + "'"));
  advance();
  return true;
}

std::optional<Program> Parser::program() {
  Program result;
  while (!token.is(TokenKind::Eof) && !failed()) {
    if (token.is(TokenKind::KwLet)) {
      Statement stmt;
      if (letStatement(stmt))
        result.lets.push_back(std::move(stmt));
    } else if (token.is(TokenKind::KwBlock)) {
      blockDef(result);
    } else if (token.is(TokenKind::KwNetwork)) {
      networkDef(result);
    } else if (consumeIf(TokenKind::Semicolon)) {
    } else if (token.is(TokenKind::Error)) {
      error(token.loc, token.text);
    } else {
      error(token.loc,
            "expected 'let', 'block' or 'network' at the top level, found '" + token.text + "'");
    }
  }
  if (failed())
    return std::nullopt;
  return result;
}

bool Parser::letStatement(Statement &stmt) {
  stmt.kind = Statement::Kind::Let;
  stmt.loc = token.loc;
  advance(); // 'let'
  stmt.name = token.text.str();
  llvm::SMLoc nameLoc = token.loc;
  if (!expect(TokenKind::Identifier, "after 'let'"))
    return false;
  stmt.loc = nameLoc;
  if (!expect(TokenKind::Equal, "after the name of a constant"))
    return false;
  stmt.value = expr(0);
  return stmt.value != nullptr;
}

bool Parser::blockDef(Program &program) {
  advance(); // 'block'
  BlockDef block;
  block.loc = token.loc;
  block.name = token.text.str();
  if (!expect(TokenKind::Identifier, "after 'block'") ||
      !expect(TokenKind::LParen, "to open the parameter list"))
    return false;
  if (!token.is(TokenKind::RParen)) {
    do {
      Parameter param;
      param.loc = token.loc;
      param.name = token.text.str();
      if (!expect(TokenKind::Identifier, "as a parameter name"))
        return false;
      if (consumeIf(TokenKind::Equal)) {
        param.defaultValue = expr(0);
        if (!param.defaultValue)
          return false;
      }
      block.params.push_back(std::move(param));
    } while (consumeIf(TokenKind::Comma));
  }
  if (!expect(TokenKind::RParen, "to close the parameter list") || !body(block.body, 0))
    return false;
  program.blocks.push_back(std::move(block));
  return true;
}

bool Parser::networkDef(Program &program) {
  advance(); // 'network'
  NetworkDef network;
  network.loc = token.loc;
  network.name = token.text.str();
  if (!expect(TokenKind::Identifier, "after 'network'") || !body(network.body, 0))
    return false;
  program.networks.push_back(std::move(network));
  return true;
}

bool Parser::body(std::vector<Statement> &statements, int depth) {
  if (depth > kMaxNesting)
    return error(token.loc,
                 "bodies are nested too deeply (the limit is " + llvm::Twine(kMaxNesting) + ")");
  llvm::SMLoc open = token.loc;
  if (!expect(TokenKind::LBrace, "to open a body"))
    return false;
  while (!token.is(TokenKind::RBrace)) {
    if (consumeIf(TokenKind::Semicolon))
      continue;
    if (token.is(TokenKind::Eof)) {
      error(token.loc, "expected '}' to close the body, found end of file");
      // The end of the file says nothing about which '}' is missing.
      sourceMgr.PrintMessage(open, llvm::SourceMgr::DK_Note, "the body opened here");
      return false;
    }
    if (!statement(statements, depth))
      return false;
  }
  advance(); // '}'
  return true;
}

bool Parser::statement(std::vector<Statement> &statements, int depth) {
  Statement stmt;
  if (token.is(TokenKind::KwLet)) {
    if (!letStatement(stmt))
      return false;
    statements.push_back(std::move(stmt));
    return true;
  }
  stmt.loc = token.loc;
  stmt.name = token.text.str();
  if (!expect(TokenKind::Identifier, "at the start of a statement"))
    return false;
  if (consumeIf(TokenKind::Equal)) {
    stmt.kind = Statement::Kind::Setting;
    stmt.value = expr(0);
    if (!stmt.value)
      return false;
    while (consumeIf(TokenKind::Comma)) {
      stmt.moreValues.push_back(expr(0));
      if (!stmt.moreValues.back())
        return false;
    }
    statements.push_back(std::move(stmt));
    return true;
  }
  stmt.kind = Statement::Kind::Call;
  if (consumeIf(TokenKind::LParen) && !consumeIf(TokenKind::RParen)) {
    do {
      Argument arg;
      arg.loc = token.loc;
      // `name = value` when a name is followed by '='.
      if (token.is(TokenKind::Identifier)) {
        Token saved = token;
        Lexer savedLexer = lexer;
        advance();
        if (consumeIf(TokenKind::Equal)) {
          arg.name = saved.text.str();
        } else {
          token = saved;
          lexer = savedLexer;
        }
      }
      arg.value = expr(0);
      if (!arg.value)
        return false;
      stmt.args.push_back(std::move(arg));
    } while (consumeIf(TokenKind::Comma));
    if (!expect(TokenKind::RParen, "to close the argument list"))
      return false;
  }
  if (token.is(TokenKind::LBrace)) {
    stmt.hasBody = true;
    if (!body(stmt.body, depth + 1))
      return false;
  }
  statements.push_back(std::move(stmt));
  return true;
}

/// One left-associative level of binary operators: operand (op operand)*.
std::unique_ptr<Expr> Parser::binaryLevel(int depth, TokenKind first, TokenKind second,
                                          std::unique_ptr<Expr> (Parser::*operand)(int)) {
  auto lhs = (this->*operand)(depth);
  while (lhs && (token.is(first) || token.is(second))) {
    // Each operator in a chain makes the tree one level deeper, and every
    // later pass walks it recursively: chains count against the nesting limit.
    if (++depth > kMaxNesting) {
      error(token.loc, "expression is nested too deeply (the limit is " + llvm::Twine(kMaxNesting) +
                           " operators and parentheses)");
      return nullptr;
    }
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::Binary;
    node->op = token.text[0];
    node->opLoc = token.loc;
    node->loc = lhs->loc;
    advance();
    node->lhs = std::move(lhs);
    node->rhs = (this->*operand)(depth);
    if (!node->rhs)
      return nullptr;
    lhs = std::move(node);
  }
  return lhs;
}

std::unique_ptr<Expr> Parser::expr(int depth) {
  return binaryLevel(depth, TokenKind::Plus, TokenKind::Minus, &Parser::term);
}

std::unique_ptr<Expr> Parser::term(int depth) {
  return binaryLevel(depth, TokenKind::Star, TokenKind::Slash, &Parser::unary);
}

std::unique_ptr<Expr> Parser::unary(int depth) {
  if (depth > kMaxNesting) {
    error(token.loc,
          "expression is nested too deeply (the limit is " + llvm::Twine(kMaxNesting) + ")");
    return nullptr;
  }
  if (token.is(TokenKind::Minus)) {
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::Negate;
    node->loc = node->opLoc = token.loc;
    advance();
    node->lhs = unary(depth + 1);
    return node->lhs ? std::move(node) : nullptr;
  }
  return primary(depth);
}

std::unique_ptr<Expr> Parser::primary(int depth) {
  auto node = std::make_unique<Expr>();
  node->loc = token.loc;
  switch (token.kind) {
  case TokenKind::Integer:
    node->kind = Expr::Kind::Integer;
    node->value = token.value;
    advance();
    return node;
  case TokenKind::Real:
    node->kind = Expr::Kind::Real;
    node->real = token.real;
    advance();
    return node;
  case TokenKind::Dims:
    node->kind = Expr::Kind::Dims;
    node->dims = token.dims;
    advance();
    return node;
  case TokenKind::Identifier:
    node->kind = Expr::Kind::Name;
    node->name = token.text.str();
    advance();
    return node;
  case TokenKind::LParen: {
    advance();
    auto inner = expr(depth + 1);
    if (!inner || !expect(TokenKind::RParen, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  case TokenKind::Error:
    error(token.loc, token.text);
    return nullptr;
  default:
    error(token.loc,
          "expected a value (a number, sizes such as 3x3, or a name), found " +
              (token.is(TokenKind::Eof) ? llvm::Twine("end of file") : "'" + token.text + "'"));
    return nullptr;
  }
}

} // namespace

std::optional<Program> resnetc::dsl::parseProgram(llvm::SourceMgr &sourceMgr, unsigned bufferId) {
  return Parser(sourceMgr, bufferId).program();
}
